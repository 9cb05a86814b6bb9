import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A SimpleQuery condition over file metadata fields (dotted paths such as `Size`,
/// `CustomLabels.category`, `Figures.FigureClusterId`). A value in an array (`Figures[]`)
/// matches when any element matches; `nested` asks for one element matching all its SubQueries.
public indirect enum MetaCondition: Sendable, Equatable {
    public enum Comparison: String, Sendable, CaseIterable {
        case eq, gt, gte, lt, lte, prefix, match, matchPhrase = "match-phrase", exist
    }

    case compare(field: String, Comparison, value: String)
    case and([MetaCondition])
    case or([MetaCondition])
    case not([MetaCondition])
    case nested(field: String, MetaCondition)

    /// Reads the JSON form, naming the faulty part (`Query.SubQueries[1].Operation`) in errors.
    public init(parsing text: String, field: String = "Query") throws {
        guard let value = JSONValue(parsing: text) else { throw VisageError.invalidArgument(field: field, message: "is not valid JSON") }
        try self.init(value, field: field)
    }

    init(_ value: JSONValue, field path: String) throws {
        guard let object = value.objectValue else { throw VisageError.invalidArgument(field: path, message: "must be a JSON object") }
        let known: Set<String> = ["Field", "Operation", "Value", "SubQueries"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw VisageError.invalidArgument(field: "\(path).\(unknown)", message: "is not a query field")
        }
        guard let operation = object["Operation"]?.stringValue else {
            throw VisageError.invalidArgument(field: "\(path).Operation", message: "is required")
        }
        func subQueries() throws -> [MetaCondition] {
            guard let items = object["SubQueries"]?.arrayValue, !items.isEmpty else {
                throw VisageError.invalidArgument(field: "\(path).SubQueries", message: "must list at least one query for \(operation)")
            }
            return try items.enumerated().map { try MetaCondition($1, field: "\(path).SubQueries[\($0)]") }
        }
        func fieldName() throws -> String {
            guard let field = object["Field"]?.stringValue, !field.isEmpty,
                  field.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty })
            else { throw VisageError.invalidArgument(field: "\(path).Field", message: "must name a field") }
            return field
        }
        switch operation {
        case "and": self = .and(try subQueries())
        case "or": self = .or(try subQueries())
        case "not": self = .not(try subQueries())
        case "nested":
            let field = try fieldName()
            let inner = try subQueries()
            self = .nested(field: field, inner.count == 1 ? inner[0] : .and(inner))
        default:
            guard let comparison = Comparison(rawValue: operation) else {
                throw VisageError.invalidArgument(field: "\(path).Operation", message: "\"\(operation)\" is not a query operation")
            }
            let field = try fieldName()
            if comparison == .exist {
                self = .compare(field: field, .exist, value: "")
                return
            }
            let value: String
            switch object["Value"] {
            case let .string(text)?: value = text
            case let .number(number)?: value = number.rounded() == number ? String(Int64(number)) : String(number)
            case let .bool(flag)?: value = flag ? "true" : "false"
            default: throw VisageError.invalidArgument(field: "\(path).Value", message: "is required for \(operation)")
            }
            self = .compare(field: field, comparison, value: value)
        }
    }
}

/// One aggregation of SimpleQuery over the matching files.
public struct MetaAggregation: Sendable, Equatable {
    public enum Operation: String, Sendable {
        case count, sum, average, max, min, distinct, group
    }

    public let field: String
    public let operation: Operation

    /// Reads the JSON list form.
    public static func list(parsing text: String, field: String = "Aggregations") throws -> [MetaAggregation] {
        guard let items = JSONValue(parsing: text)?.arrayValue else {
            throw VisageError.invalidArgument(field: field, message: "must be a JSON list")
        }
        return try items.enumerated().map { index, item in
            let path = "\(field)[\(index)]"
            guard let name = item["Field"]?.stringValue, !name.isEmpty else {
                throw VisageError.invalidArgument(field: "\(path).Field", message: "is required")
            }
            guard let text = item["Operation"]?.stringValue, let operation = Operation(rawValue: text) else {
                throw VisageError.invalidArgument(field: "\(path).Operation", message: "must be count, sum, average, max, min, distinct or group")
            }
            return MetaAggregation(field: name, operation: operation)
        }
    }
}

/// The result of one aggregation.
public struct MetaAggregationResult: Sendable, Equatable {
    public let field: String
    public let operation: MetaAggregation.Operation
    public let value: Double?
    /// Values and their file counts, most frequent first (for `group`).
    public let groups: [(value: String, count: Int)]

    public static func == (a: Self, b: Self) -> Bool {
        a.field == b.field && a.operation == b.operation && a.value == b.value
            && a.groups.map(\.value) == b.groups.map(\.value) && a.groups.map(\.count) == b.groups.map(\.count)
    }
}

/// A SimpleQuery request in core terms.
public struct MetaSearch: Sendable {
    public var condition: MetaCondition?
    /// Fields to sort by, each ascending or not.
    public var sort: [(field: String, ascending: Bool)] = []
    public var limit = 100
    public var offset = 0
    public var withTotal = true
    public var aggregations: [MetaAggregation] = []

    public init(condition: MetaCondition?) {
        self.condition = condition
    }
}

/// What a search found.
public struct MetaSearchResult: Sendable {
    /// The matching documents as stored JSON text.
    public let texts: [String]
    public var documents: [[String: JSONValue]] { texts.map { JSONValue(parsing: $0)?.objectValue ?? [:] } }
    public let total: Int?
    /// The offset of the next page, nil when this was the last.
    public let nextOffset: Int?
    public let aggregations: [MetaAggregationResult]
}

extension FileIndex {
    /// Runs a search over one dataset. Conditions become `IN` subqueries on the field table's
    /// (dataset, path, value) indexes, so a selective condition reads only the matching rows.
    public func search(dataset: DatasetKey, _ search: MetaSearch) async throws -> MetaSearchResult {
        let key = dataset.description
        var filter: SQLQueryString = "f.dataset_key = \(bind: key)"
        if let condition = search.condition {
            // With a condition, the (dataset, path, value) index should drive the query: the
            // dataset test is written so that no engine uses it to scan the whole dataset in
            // URI order (SQLite would, testing every file against the condition).
            filter = "f.dataset_key || '' = \(bind: key) AND " + Self.sql(condition, key: key, element: nil)
        }
        let whereClause = filter
        return try await store.withConnection { db in
            if !search.aggregations.isEmpty {
                var results: [MetaAggregationResult] = []
                for aggregation in search.aggregations {
                    results.append(try await Self.aggregate(aggregation, key: key, filter: whereClause, groups: search.limit, db: db))
                }
                return MetaSearchResult(texts: [], total: nil, nextOffset: nil, aggregations: results)
            }
            var order: SQLQueryString = ""
            for (field, ascending) in search.sort {
                let direction: SQLQueryString = ascending ? "ASC" : "DESC"
                let aggregate: SQLQueryString = ascending ? "MIN" : "MAX"
                order = order + """
                    (SELECT \(aggregate)(s.number_value) FROM media_file_fields s WHERE s.file_id = f.id AND s.path = \(bind: field)) \(direction),
                    (SELECT \(aggregate)(s.text_value) FROM media_file_fields s WHERE s.file_id = f.id AND s.path = \(bind: field)) \(direction),
                    """
            }
            let rows = try await db.raw("""
                SELECT f.document FROM media_files f WHERE \(whereClause)
                ORDER BY \(order) f.uri LIMIT \(bind: search.limit + 1) OFFSET \(bind: search.offset)
                """).all()
            let texts = try rows.prefix(search.limit).map { try $0.decode(column: "document", as: String.self) }
            var total: Int?
            if search.withTotal {
                total = try await db.raw("SELECT COUNT(*) AS n FROM media_files f WHERE \(whereClause)").first()?
                    .decode(column: "n", as: Int.self)
            }
            return MetaSearchResult(texts: texts, total: total,
                                    nextOffset: rows.count > search.limit ? search.offset + search.limit : nil, aggregations: [])
        }
    }

    static func aggregate(_ aggregation: MetaAggregation, key: String, filter: SQLQueryString, groups: Int,
                          db: any SQLDatabase) async throws -> MetaAggregationResult {
        let matching: SQLQueryString = """
            FROM media_file_fields x WHERE x.dataset_key = \(bind: key) AND x.path = \(bind: aggregation.field)
              AND x.file_id IN (SELECT f.id FROM media_files f WHERE \(filter))
            """
        let valueText: SQLQueryString = "COALESCE(x.text_value, CAST(x.number_value AS TEXT))"
        switch aggregation.operation {
        case .group:
            let rows = try await db.raw("""
                SELECT \(valueText) AS v, COUNT(DISTINCT x.file_id) AS n \(matching)
                GROUP BY \(valueText) ORDER BY n DESC, v LIMIT \(bind: groups)
                """).all()
            let counted = try rows.map { (value: Self.plainNumber(try $0.decode(column: "v", as: String.self)),
                                          count: try $0.decode(column: "n", as: Int.self)) }
            return MetaAggregationResult(field: aggregation.field, operation: .group, value: nil, groups: counted)
        default:
            let expression: SQLQueryString
            switch aggregation.operation {
            case .count: expression = "CAST(COUNT(*) AS DOUBLE PRECISION)"
            case .distinct: expression = "CAST(COUNT(DISTINCT \(valueText)) AS DOUBLE PRECISION)"
            case .sum: expression = "SUM(x.number_value)"
            case .average: expression = "AVG(x.number_value)"
            case .max: expression = "MAX(x.number_value)"
            default: expression = "MIN(x.number_value)"
            }
            let value = try await db.raw("SELECT \(expression) AS v \(matching)").first()?.decode(column: "v", as: Double?.self)
            return MetaAggregationResult(field: aggregation.field, operation: aggregation.operation, value: value ?? 0, groups: [])
        }
    }

    /// "3.0" (how the engines print a stored whole number) as "3".
    static func plainNumber(_ text: String) -> String {
        if let number = Double(text), number.rounded() == number, text.hasSuffix(".0") { return String(Int64(number)) }
        return text
    }

    /// The condition as SQL on `media_files f`. Inside a `nested` condition `element` is the
    /// SQL expression of the array element every comparison must share.
    static func sql(_ condition: MetaCondition, key: String, element: SQLQueryString?) -> SQLQueryString {
        switch condition {
        case let .and(parts): return join(parts.map { sql($0, key: key, element: element) }, with: " AND ")
        case let .or(parts): return join(parts.map { sql($0, key: key, element: element) }, with: " OR ")
        case let .not(parts): return "NOT " + join(parts.map { sql($0, key: key, element: element) }, with: " OR ")
        case let .nested(field, inner):
            let prefix = field + "."
            return """
                EXISTS (SELECT 1 FROM media_file_fields n WHERE n.file_id = f.id AND n.element >= 0
                  AND substr(n.path, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix) AND \(sql(inner, key: key, element: "n.element")))
                """
        case let .compare(field, comparison, value):
            let test = valueTest(comparison, value)
            if let element {
                return """
                    EXISTS (SELECT 1 FROM media_file_fields x WHERE x.file_id = f.id AND x.element = \(element)
                      AND x.path = \(bind: field)\(test))
                    """
            }
            return """
                f.id IN (SELECT x.file_id FROM media_file_fields x WHERE x.dataset_key = \(bind: key) AND x.path = \(bind: field)\(test))
                """
        }
    }

    /// The comparison on a field row `x`: numbers compare as numbers when the value is one,
    /// everything else as text (RFC 3339 times in one zone order correctly as text).
    static func valueTest(_ comparison: MetaCondition.Comparison, _ value: String) -> SQLQueryString {
        let number = Double(value)
        func ordered(_ op: String) -> SQLQueryString {
            let sqlOperator = SQLQueryString(op)
            // A number compares with numbers (one index range); anything else as text.
            if let number { return " AND x.number_value \(sqlOperator) \(bind: number)" }
            return " AND x.text_value \(sqlOperator) \(bind: value)"
        }
        switch comparison {
        case .eq:
            if let number { return " AND (x.number_value = \(bind: number) OR x.text_value = \(bind: value))" }
            return " AND x.text_value = \(bind: value)"
        case .gt: return ordered(">")
        case .gte: return ordered(">=")
        case .lt: return ordered("<")
        case .lte: return ordered("<=")
        case .exist: return ""
        case .prefix:
            // A range of the text index: in byte order every string starting with the prefix
            // lies between it and the prefix followed by the highest code point.
            return " AND x.text_value >= \(bind: value) AND x.text_value < \(bind: value + "\u{10FFFF}")"
        case .match, .matchPhrase:
            let escaped = value.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            return " AND lower(x.text_value) LIKE \(bind: "%\(escaped)%") ESCAPE '\\'"
        }
    }

    static func join(_ parts: [SQLQueryString], with separator: String) -> SQLQueryString {
        var result: SQLQueryString = "("
        for (index, part) in parts.enumerated() {
            if index > 0 { result = result + SQLQueryString(separator) }
            result = result + part
        }
        return result + ")"
    }
}
