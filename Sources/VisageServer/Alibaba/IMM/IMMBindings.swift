import Foundation
import VisageCore
import VisageMedia

/// CreateBinding, GetBinding, ListBindings, DeleteBinding.
extension IMMOperations {
    func createBinding(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "CreateBinding", project: project)
        let binding = try await bindings.create(account: call.caller.accountID, project: project, dataset: dataset,
                                                uri: try call.required("URI"), requestID: call.requestID)
        return ["Binding": Self.binding(binding)]
    }

    func getBinding(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "GetBinding", project: project)
        let binding = try await bindings.binding(account: call.caller.accountID, project: project, dataset: dataset,
                                                 uri: try call.required("URI"))
        return ["Binding": Self.binding(binding)]
    }

    func listBindings(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "ListBindings", project: project)
        let limit = try maxResults(call, range: 1...200, default: 100)
        let after = call.optional("NextToken") ?? ""
        let all = try await bindings.bindings(account: call.caller.accountID, project: project, dataset: dataset).filter { $0.uri > after }
        let page = all.prefix(limit)
        return ["Bindings": page.map(Self.binding), "NextToken": all.count > limit ? page.last?.uri ?? "" : ""]
    }

    func deleteBinding(_ call: RPCCall) async throws -> [String: any Sendable] {
        let (project, dataset) = try datasetNames(call)
        try authorize(call, "DeleteBinding", project: project)
        try await bindings.delete(account: call.caller.accountID, project: project, dataset: dataset, uri: try call.required("URI"))
        return [:]
    }

    static func binding(_ binding: DatasetBinding) -> [String: any Sendable] {
        ["ProjectName": binding.project, "DatasetName": binding.dataset, "URI": binding.uri, "State": "Running",
         "Phase": binding.phase, "Reason": "", "CreateTime": time(binding.created), "UpdateTime": time(binding.updated)]
    }
}
