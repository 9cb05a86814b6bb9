import Foundation
import VisageCore
import VisageMedia

/// Figure clusters (people): the clustering and merging tasks, queries and edits.
extension IMMOperations {
    func createFigureClusteringTask(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "CreateFigureClusteringTask", project: project)
        return try await submitClusterTask(call, project: project, dataset: dataset, kind: .clustering)
    }

    func createFigureClustersMergingTask(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "CreateFigureClustersMergingTask", project: project)
        let target = try call.required("To")
        var sources: [String] = []
        if let one = call.optional("From") { sources.append(one) }
        if let many = call.optional("Froms") {
            guard let list = JSONValue(parsing: many)?.arrayValue, list.allSatisfy({ $0.stringValue != nil }), list.count <= 100 else {
                throw VisageError.invalidArgument(field: "Froms", message: "must be a JSON list of at most 100 figure cluster ids")
            }
            sources += list.compactMap(\.stringValue)
        }
        guard !sources.isEmpty else { throw VisageError.invalidArgument(field: "From", message: "or Froms is required") }
        // Unknown people are refused now rather than failing the task later.
        let key = try await datasetKey(call, project: project, dataset: dataset)
        let known = try await figureClusters.clusters(dataset: key, ids: [target] + sources).map(\.id)
        for id in [target] + sources where !known.contains(id) { throw VisageError.notFound(kind: .figureCluster, name: id) }
        return try await submitClusterTask(call, project: project, dataset: dataset, kind: .merging)
    }

    private func submitClusterTask(_ call: RPCCall, project: String, dataset: String, kind: FigureClustering.Kind) async throws
        -> [String: any Sendable]
    {
        let tags = call.optional("Tags") ?? "{}"
        guard JSONValue(parsing: tags)?.objectValue != nil else {
            throw VisageError.invalidArgument(field: "Tags", message: "must be a JSON object")
        }
        let definition = JSONValue.object(call.request.parameters.filter { !$0.key.hasPrefix("Signature") }
            .mapValues(JSONValue.string)).text
        let task = try await clustering.submit(.init(
            account: call.caller.accountID, project: project, dataset: dataset, kind: kind, idPrefix: call.request.action,
            notification: try await IMMNotification.target(of: call, outbox: outbox), userData: call.optional("UserData") ?? "", tags: tags,
            requestID: call.requestID, requestDefinition: definition))
        return ["TaskId": task.id, "EventId": task.eventID]
    }

    func queryFigureClusters(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "QueryFigureClusters", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        var listing = ClusterListing()
        let limit = try call.integer("MaxResults") ?? 100
        guard (0...100).contains(limit) else { throw VisageError.invalidArgument(field: "MaxResults", message: "must be from 0 to 100") }
        listing.limit = limit == 0 ? 100 : limit
        if let sort = call.optional("Sort") {
            guard let value = ClusterListing.Sort(rawValue: sort) else {
                throw VisageError.invalidArgument(field: "Sort", message: "must be one of "
                    + ClusterListing.Sort.allCases.map(\.rawValue).joined(separator: ", "))
            }
            listing.sort = value
        }
        switch (call.optional("Order") ?? "asc").lowercased() {
        case "asc": listing.descending = false
        case "desc": listing.descending = true
        default: throw VisageError.invalidArgument(field: "Order", message: "must be asc or desc")
        }
        listing.createdRange = try Self.timeRange(call.optional("CreateTimeRange"), field: "CreateTimeRange")
        listing.updatedRange = try Self.timeRange(call.optional("UpdateTimeRange"), field: "UpdateTimeRange")
        if let labels = call.optional("CustomLabels") { listing.labels = try Self.labelFilter(labels) }
        listing.offset = try call.optional("NextToken").flatMap { $0.isEmpty ? nil : $0 }.map(Self.offset(token:)) ?? 0
        let (page, total) = try await figureClusters.clusters(dataset: key, listing)
        var body: [String: any Sendable] = [
            "FigureClusters": try await clusterDocuments(page, key: key),
            "NextToken": listing.offset + page.count < total ? Self.token(offset: listing.offset + page.count) : "",
        ]
        if try flag(call, "WithTotalCount") { body["TotalCount"] = total }
        return body
    }

    func getFigureCluster(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "GetFigureCluster", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        let cluster = try await figureClusters.cluster(dataset: key, id: try call.required("ObjectId"))
        return ["FigureCluster": try await clusterDocuments([cluster], key: key)[0]]
    }

    func batchGetFigureCluster(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "BatchGetFigureCluster", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        guard let ids = JSONValue(parsing: try call.required("ObjectIds"))?.arrayValue?.compactMap(\.stringValue), (1...100).contains(ids.count)
        else { throw VisageError.invalidArgument(field: "ObjectIds", message: "must be a JSON list of 1 to 100 figure cluster ids") }
        return ["FigureClusters": try await clusterDocuments(try await figureClusters.clusters(dataset: key, ids: ids), key: key)]
    }

    func updateFigureCluster(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "UpdateFigureCluster", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        guard let request = JSONValue(parsing: try call.required("FigureCluster"))?.objectValue else {
            throw VisageError.invalidArgument(field: "FigureCluster", message: "must be a JSON object")
        }
        let known: Set<String> = ["ObjectId", "Name", "CustomLabels", "Cover", "MetaLockVersion"]
        if let unknown = request.keys.sorted().first(where: { !known.contains($0) }) {
            throw VisageError.invalidArgument(field: "FigureCluster", message: "has an unknown field \(unknown)")
        }
        guard let id = request["ObjectId"]?.stringValue else {
            throw VisageError.invalidArgument(field: "FigureCluster.ObjectId", message: "is required")
        }
        var changes = ClusterChanges()
        if let name = request["Name"] {
            guard let text = name.stringValue, text.utf8.count <= 256 else {
                throw VisageError.invalidArgument(field: "FigureCluster.Name", message: "must be a string of at most 256 bytes")
            }
            changes.name = text
        }
        if let labels = request["CustomLabels"] {
            guard let object = labels.objectValue, object.values.allSatisfy({ $0.stringValue != nil }) else {
                throw VisageError.invalidArgument(field: "FigureCluster.CustomLabels", message: "must be an object of strings")
            }
            changes.customLabels = object.compactMapValues(\.stringValue)
        }
        if let cover = request["Cover"] {
            guard let figure = cover.objectValue?["Figures"]?.arrayValue?.first?.objectValue?["FigureId"]?.stringValue else {
                throw VisageError.invalidArgument(field: "FigureCluster.Cover", message: "must name a face as {\"Figures\":[{\"FigureId\":…}]}")
            }
            changes.coverFigureID = figure
        }
        if let version = request["MetaLockVersion"] {
            guard let number = version.numberValue, number == number.rounded() else {
                throw VisageError.invalidArgument(field: "FigureCluster.MetaLockVersion", message: "must be an integer")
            }
            changes.lockVersion = Int64(number)
        }
        try await figureClusters.update(dataset: key, id: id, changes)
        return [:]
    }

    /// The FigureCluster documents of these people, with their covers.
    func clusterDocuments(_ page: [FigureCluster], key: DatasetKey) async throws -> [[String: any Sendable]] {
        let covers = try await figureClusters.covers(dataset: key, of: page)
        return page.map { cluster in
            var body: [String: any Sendable] = [
                "ObjectId": cluster.id, "ObjectType": "figure-cluster", "ProjectName": key.project, "DatasetName": key.dataset,
                "OwnerId": key.accountID, "ImageCount": cluster.imageCount, "FaceCount": cluster.faceCount, "VideoCount": 0,
                "CreateTime": MediaTime.text(millis: cluster.created), "UpdateTime": MediaTime.text(millis: cluster.updated),
                "MetaLockVersion": cluster.lockVersion, "Name": cluster.name, "CustomLabels": cluster.customLabels,
            ]
            if let cover = covers[cluster.id] {
                var coverBody: [String: any Sendable] = ["Figures": [cover.figure.any]]
                for field in ["URI", "ObjectId", "ImageWidth", "ImageHeight"] {
                    if let value = cover.document[field] { coverBody[field] = value.any }
                }
                body["Cover"] = coverBody
            }
            return body
        }
    }

    /// A `{"Start":…,"End":…}` time range (RFC 3339 times) as milliseconds.
    static func timeRange(_ text: String?, field: String) throws -> ClosedRange<Int64>? {
        guard let text else { return nil }
        guard let object = JSONValue(parsing: text)?.objectValue else {
            throw VisageError.invalidArgument(field: field, message: "must be a JSON object {\"Start\":…,\"End\":…}")
        }
        func millis(_ key: String, _ fallback: Int64) throws -> Int64 {
            guard let value = object[key] else { return fallback }
            guard let string = value.stringValue, let date = MediaTime.parse(string) else {
                throw VisageError.invalidArgument(field: "\(field).\(key)", message: "must be an RFC 3339 time")
            }
            return WallClock.millis(date)
        }
        let start = try millis("Start", 0), end = try millis("End", Int64.max)
        guard start <= end else { throw VisageError.invalidArgument(field: field, message: "starts after it ends") }
        return start...end
    }

    /// CustomLabels filters written `key=value`, several joined by `and`.
    static func labelFilter(_ text: String) throws -> [String: String] {
        var labels: [String: String] = [:]
        for clause in text.components(separatedBy: " and ") where !clause.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = clause.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw VisageError.invalidArgument(field: "CustomLabels", message: "must be key=value clauses joined by 'and'")
            }
            labels[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        return labels
    }
}
