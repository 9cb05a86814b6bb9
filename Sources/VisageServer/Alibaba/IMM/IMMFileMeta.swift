import Foundation
import VisageCore
import VisageMedia

/// IndexFileMeta, BatchIndexFileMeta (asynchronous, as durable tasks), GetFileMeta,
/// BatchGetFileMeta, UpdateFileMeta, DeleteFileMeta, BatchDeleteFileMeta.
extension IMMOperations {
    func indexFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "IndexFileMeta", project: project)
        guard let file = JSONValue(parsing: try call.required("File")) else {
            throw VisageError.invalidArgument(field: "File", message: "is not valid JSON")
        }
        return try await submit(call, project: project, dataset: dataset, files: [try InputFile(file, field: "File")],
                                type: "IndexFileMeta")
    }

    func batchIndexFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "BatchIndexFileMeta", project: project)
        let files = try InputFile.list(try call.required("Files"), field: "Files")
        return try await submit(call, project: project, dataset: dataset, files: files, type: "BatchIndexFileMeta")
    }

    private func submit(_ call: RPCCall, project: String, dataset: String, files: [InputFile], type: String) async throws
        -> [String: any Sendable]
    {
        let definition = JSONValue.object(call.request.parameters.filter { !$0.key.hasPrefix("Signature") }
            .mapValues(JSONValue.string)).text
        let task = try await indexing.submit(.init(
            account: call.caller.accountID, project: project, dataset: dataset, files: files,
            notification: try await IMMNotification.target(of: call, outbox: outbox), userData: call.optional("UserData") ?? "",
            requestID: call.requestID, requestDefinition: definition, type: type))
        return ["EventId": task.eventID]
    }

    func getFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "GetFileMeta", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        let uri = try call.required("URI")
        guard let document = try await files.document(dataset: key, uri: uri) else {
            throw VisageError.notFound(kind: .file, name: uri)
        }
        return ["Files": [try Self.selecting(document, call)]]
    }

    func batchGetFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "BatchGetFileMeta", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        let uris = try Self.uriList(try call.required("URIs"), field: "URIs")
        return ["Files": try await files.documents(dataset: key, uris: uris).map { try Self.selecting($0, call) }]
    }

    func updateFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "UpdateFileMeta", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        guard let file = JSONValue(parsing: try call.required("File")) else {
            throw VisageError.invalidArgument(field: "File", message: "is not valid JSON")
        }
        let input = try InputFile(file, field: "File", allowFigures: true)
        let labels = input.given["CustomLabels"]?.objectValue?.compactMapValues(\.stringValue)
        // Figures[].FigureClusterId moves a face to another person, or out of every person
        // with a reserved id.
        let moves = try (input.given["Figures"]?.arrayValue ?? []).map { figure -> (String, String?) in
            guard let fields = figure.objectValue, let figureID = fields["FigureId"]?.stringValue,
                  let cluster = fields["FigureClusterId"]?.stringValue
            else { throw VisageError.invalidArgument(field: "File.Figures", message: "entries need FigureId and FigureClusterId") }
            return (figureID, cluster.hasPrefix("figure-cluster-id-") ? nil : cluster)
        }
        let setsLabels = input.given["CustomLabels"] != nil || input.given["CustomId"] != nil || moves.isEmpty
        try await figureClusters.updateFile(
            dataset: key, uri: input.uri,
            labels: setsLabels ? FileLabels(customLabels: labels, customID: input.given["CustomId"]?.stringValue) : nil,
            moves: moves.map { (figureID: $0.0, to: $0.1) })
        return [:]
    }

    func deleteFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "DeleteFileMeta", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        try await files.delete(dataset: key, uri: try call.required("URI"))
        return [:]
    }

    func batchDeleteFileMeta(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "BatchDeleteFileMeta", project: project)
        let key = try await datasetKey(call, project: project, dataset: dataset)
        for uri in try Self.uriList(try call.required("URIs"), field: "URIs") {
            try await files.delete(dataset: key, uri: uri)
        }
        return [:]
    }

    /// The dataset's key, once it is known to exist.
    func datasetKey(_ call: RPCCall, project: String, dataset: String) async throws -> DatasetKey {
        try await datasets.dataset(account: call.caller.accountID, project: project, name: dataset).key
    }

    static func uriList(_ text: String, field: String) throws -> [String] {
        guard let items = JSONValue(parsing: text)?.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw VisageError.invalidArgument(field: field, message: "must be a JSON list of URIs")
        }
        guard (1...100).contains(items.count) else { throw VisageError.invalidArgument(field: field, message: "must list 1 to 100 URIs") }
        return items.compactMap(\.stringValue)
    }

    /// The document with only the top-level fields WithFields names (all when absent).
    static func selecting(_ document: [String: JSONValue], _ call: RPCCall) throws -> any Sendable {
        guard let text = call.optional("WithFields") else { return JSONValue.object(document).any }
        guard let names = JSONValue(parsing: text)?.arrayValue?.compactMap(\.stringValue) else {
            throw VisageError.invalidArgument(field: "WithFields", message: "must be a JSON list of field names")
        }
        let wanted = Set(names)
        return JSONValue.object(document.filter { wanted.contains($0.key) }).any
    }
}
