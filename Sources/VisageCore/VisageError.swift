/// A failure of a core operation, in terms every dialect can translate into its own error format.
public enum VisageError: Error, Equatable, Sendable {
    /// A request value is missing or malformed; `field` names the offending input.
    case invalidArgument(field: String, message: String)
    /// A named thing does not exist (`kind` is e.g. "bucket", "object", "user").
    case notFound(kind: String, name: String)
    /// The thing already exists or is in a state that forbids the operation.
    case conflict(kind: String, name: String, message: String)
    /// The thing cannot be deleted while others depend on it (`kind` names the dependency, e.g.
    /// "User.AccessKey").
    case inUse(kind: String, name: String, message: String)
    /// The caller is not allowed to do this.
    case forbidden(message: String)
    /// The input is larger than the limit, in bytes.
    case tooLarge(field: String, limit: Int)
    /// A condition the caller set on the request (ETag, modification time, range) does not hold.
    case preconditionFailed(message: String)
    /// A requested byte range selects nothing in an object of `size` bytes.
    case rangeNotSatisfiable(size: Int64)
    /// Something went wrong on our side; the message is safe to show.
    case internalFailure(message: String)
}

extension VisageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidArgument(field, message): return "invalid \(field): \(message)"
        case let .notFound(kind, name): return "\(kind) not found: \(name)"
        case let .conflict(_, _, message): return message
        case let .inUse(_, _, message): return message
        case let .forbidden(message): return message
        case let .tooLarge(field, limit): return "\(field) exceeds the limit of \(limit) bytes"
        case let .preconditionFailed(message): return message
        case let .rangeNotSatisfiable(size): return "the requested range is not satisfiable for an object of \(size) bytes"
        case let .internalFailure(message): return message
        }
    }
}
