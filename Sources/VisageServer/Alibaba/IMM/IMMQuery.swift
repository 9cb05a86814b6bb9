import Foundation
import VisageAccess
import VisageCore
import VisageMedia

/// SimpleQuery: conditions, sorting, paging, field selection and aggregations over a dataset.
extension IMMOperations {
    func simpleQuery(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "SimpleQuery", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        var search = MetaSearch(condition: try call.optional("Query").map { try MetaCondition(parsing: $0) })
        search.aggregations = try call.optional("Aggregations").map { try MetaAggregation.list(parsing: $0) } ?? []
        let maxLimit = search.aggregations.isEmpty ? 100 : 2000
        let limit = try maxResults(call, range: 0...maxLimit, default: 100)
        search.limit = limit == 0 ? 100 : limit
        search.sort = try Self.sortOrder(sort: call.optional("Sort"), order: call.optional("Order"))
        search.offset = try call.optional("NextToken").map(Self.offset(token:)) ?? 0
        search.withTotal = !(try flag(call, "WithoutTotalHits"))
        let result = try await files.search(dataset: key, search)
        if !search.aggregations.isEmpty {
            return ["Aggregations": result.aggregations.map(Self.aggregation), "Files": [String](), "NextToken": ""]
        }
        var body: [String: any Sendable] = [
            "Files": call.optional("WithFields") == nil ? result.texts.map(RawJSON.init)
                : try result.documents.map { try Self.selecting($0, call) },
            "NextToken": result.nextOffset.map(Self.token(offset:)) ?? "",
        ]
        if let total = result.total { body["TotalHits"] = total }
        return body
    }

    /// Sort fields (at most 5) with their orders; a missing order entry means descending.
    static func sortOrder(sort: String?, order: String?) throws -> [(field: String, ascending: Bool)] {
        guard let sort else { return [] }
        let fields = sort.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...5).contains(fields.count), fields.allSatisfy({ !$0.isEmpty }) else {
            throw VisageError.invalidArgument(field: "Sort", message: "must list 1 to 5 fields")
        }
        let orders = (order ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return try fields.enumerated().map { index, field in
            let direction = index < orders.count ? orders[index] : "desc"
            guard direction == "asc" || direction == "desc" else {
                throw VisageError.invalidArgument(field: "Order", message: "entries must be asc or desc")
            }
            return (field, direction == "asc")
        }
    }

    static func token(offset: Int) -> String {
        Base64URL.encode(Data("offset:\(offset)".utf8))
    }

    static func offset(token: String) throws -> Int {
        guard let data = Base64URL.decode(token), let text = String(data: data, encoding: .utf8), text.hasPrefix("offset:"),
              let offset = Int(text.dropFirst(7)), offset >= 0
        else { throw VisageError.invalidArgument(field: "NextToken", message: "is not a token this service gave") }
        return offset
    }

    static func aggregation(_ result: MetaAggregationResult) -> [String: any Sendable] {
        var body: [String: any Sendable] = ["Field": result.field, "Operation": result.operation.rawValue]
        if let value = result.value { body["Value"] = value }
        if result.operation == .group { body["Groups"] = result.groups.map { ["Value": $0.value, "Count": $0.count] as [String: any Sendable] } }
        return body
    }
}
