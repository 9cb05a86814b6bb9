import HTTPTypes

/// What a request of a bucket-and-object API points at.
enum ResourceLevel: Sendable, Equatable {
    case service, bucket, object
}

/// A dialect's explicit list of the operations it implements. A request matches an entry by
/// method, resource level, the query names that select the entry (sub-resources such as `?acl`)
/// and optionally a header; every other query name it carries must be one the entry takes.
/// Anything else is refused as not implemented, so a request for a feature the dialect lacks can
/// never fall through to a plain read or write of the object (`PUT ?symlink` is not a PutObject).
struct OperationTable<Operation: Sendable>: Sendable {
    struct Entry: Sendable {
        let method: HTTPRequest.Method
        let level: ResourceLevel
        let selectors: Set<String>
        let header: HTTPField.Name?
        let parameters: Set<String>
        let operation: Operation

        /// More selectors (and then a selecting header) make an entry more specific.
        var specificity: Int { selectors.count * 2 + (header == nil ? 0 : 1) }
    }

    /// The outcome of matching a request.
    enum Match: Sendable {
        case operation(Operation)
        /// The request names a query parameter (usually a sub-resource) this dialect does not implement.
        case notImplemented(parameter: String)
        /// Nothing at this resource answers this method.
        case methodNotAllowed
    }

    private let entries: [Entry]
    /// Query names any request may carry (credentials and signatures).
    private let common: Set<String>

    init(common: Set<String>, entries: [Entry]) {
        self.common = common
        // Stable: among equally specific entries, the one declared first wins.
        self.entries = entries.enumerated().sorted { a, b in
            a.element.specificity != b.element.specificity ? a.element.specificity > b.element.specificity : a.offset < b.offset
        }.map(\.element)
    }

    func match(method: HTTPRequest.Method, level: ResourceLevel, query: Set<String>, headers: HTTPFields) -> Match {
        let extra = query.subtracting(common)
        let entry = entries.first { entry in
            entry.method == method && entry.level == level && entry.selectors.isSubset(of: extra)
                && entry.header.map { headers[$0] != nil } != false
        }
        if let entry {
            let unknown = extra.subtracting(entry.selectors).subtracting(entry.parameters)
            if let name = unknown.min() { return .notImplemented(parameter: name) }
            return .operation(entry.operation)
        }
        let known = entries.filter { $0.level == level }.reduce(into: Set<String>()) { $0.formUnion($1.selectors.union($1.parameters)) }
        if let name = extra.subtracting(known).min() { return .notImplemented(parameter: name) }
        return .methodNotAllowed
    }
}

extension OperationTable.Entry {
    init(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ operation: Operation, selectors: Set<String> = [],
         header: HTTPField.Name? = nil, parameters: Set<String> = []) {
        self.init(method: method, level: level, selectors: selectors, header: header, parameters: parameters, operation: operation)
    }
}

extension OperationTable {
    /// The operation a request names, or the dialect's refusal: an anonymous caller may perform
    /// only the reads `publicRead` accepts and learns nothing else about the API (`denied`); then
    /// a parameter the dialect lacks (`notImplemented`), or a method nothing answers.
    func operation(method: HTTPRequest.Method, level: ResourceLevel, query: Set<String>, headers: HTTPFields, anonymous: Bool,
                   publicRead: (Operation) -> Bool, denied: @autoclosure () -> any Error,
                   notImplemented: (String) -> any Error, methodNotAllowed: @autoclosure () -> any Error) throws -> Operation {
        let found = match(method: method, level: level, query: query, headers: headers)
        if anonymous {
            guard case let .operation(operation) = found, publicRead(operation) else { throw denied() }
        }
        switch found {
        case let .operation(operation): return operation
        case let .notImplemented(parameter): throw notImplemented(parameter)
        case .methodNotAllowed: throw methodNotAllowed()
        }
    }
}
