import Foundation
import VisageCore
import VisageMedia

/// CreateDataset, GetDataset, ListDatasets, UpdateDataset, DeleteDataset.
extension IMMOperations {
    func createDataset(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, name) = try datasetNames(call)
        try authorize(call, "CreateDataset", project: project)
        let dataset = try await datasets.create(account: call.caller.accountID, project: project, name: name,
                                                changes: try datasetChanges(call))
        return ["Dataset": Self.dataset(dataset)]
    }

    func getDataset(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, name) = try datasetNames(call)
        try authorize(call, "GetDataset", project: project)
        let dataset = try await datasets.dataset(account: call.caller.accountID, project: project, name: name,
                                                 statistics: try flag(call, "WithStatistics"))
        return ["Dataset": Self.dataset(dataset)]
    }

    func listDatasets(_ call: RPCCall) async throws -> [String: any Sendable] {
        let project = try call.required("ProjectName")
        try authorize(call, "ListDatasets", project: project)
        let limit = try maxResults(call, range: 1...200, default: 100)
        let page = try await datasets.datasets(account: call.caller.accountID, project: project, prefix: call.optional("Prefix") ?? "",
                                               after: call.optional("NextToken") ?? "", limit: limit + 1)
        let shown = page.prefix(limit)
        return ["Datasets": shown.map(Self.dataset), "NextToken": page.count > limit ? shown.last?.name ?? "" : ""]
    }

    func updateDataset(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, name) = try datasetNames(call)
        try authorize(call, "UpdateDataset", project: project)
        let dataset = try await datasets.update(account: call.caller.accountID, project: project, name: name,
                                                changes: try datasetChanges(call))
        return ["Dataset": Self.dataset(dataset)]
    }

    func deleteDataset(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, name) = try datasetNames(call)
        try authorize(call, "DeleteDataset", project: project)
        try await datasets.delete(account: call.caller.accountID, project: project, name: name)
        return [:]
    }

    func datasetNames(_ call: RPCCall) throws -> (project: String, dataset: String) {
        (try call.required("ProjectName"), try call.required("DatasetName"))
    }

    func datasetChanges(_ call: RPCCall) throws -> DatasetChanges {
        let maxFiles = try call.integer("DatasetMaxFileCount")
        return DatasetChanges(description: call.optional("Description"), templateID: call.optional("TemplateId"),
                              maxBindCount: try call.integer("DatasetMaxBindCount"), maxFileCount: maxFiles.map(Int64.init),
                              workflowParameters: call.optional("WorkflowParameters"))
    }

    static func dataset(_ dataset: MediaDataset) -> [String: any Sendable] {
        ["ProjectName": dataset.project, "DatasetName": dataset.name, "Description": dataset.description,
         "TemplateId": dataset.templateID, "CreateTime": time(dataset.created), "UpdateTime": time(dataset.updated),
         "FileCount": dataset.fileCount, "TotalFileSize": dataset.totalFileSize,
         "DatasetMaxBindCount": dataset.maxBindCount, "DatasetMaxFileCount": dataset.maxFileCount,
         "WorkflowParameters": JSONValue(parsing: dataset.workflowParameters)?.any ?? [String]()]
    }
}
