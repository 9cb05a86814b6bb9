import Foundation
import VisageCore

/// A re-clustering asked for through Visage's own API: its settings, and whether to write.
struct ReclusterRequest: Codable, Sendable {
    var settings: ClusterSettings
    var apply: Bool
}

/// A re-clustering task as its caller reads it back.
public struct ReclusterTask: Sendable {
    public let task: MediaTask
    /// Once it succeeded: what it would change (a dry run) or changed.
    public let preview: ReclusterPreview?
}

extension FigureClustering {
    /// Queues a re-clustering of a dataset, a dry run unless `apply`. It runs on the
    /// clustering worker, so it never overlaps a clustering run or a merge of the dataset,
    /// and reports its progress like them.
    public func submitRecluster(dataset: DatasetKey, settings: ClusterSettings, apply: Bool) async throws -> MediaTask {
        let definition = String(decoding: try JSONEncoder().encode(ReclusterRequest(settings: settings, apply: apply)), as: UTF8.self)
        return try await submit(Submission(
            account: dataset.accountID, project: dataset.project, dataset: dataset.dataset, kind: .reclustering, idPrefix: Kind.reclustering.rawValue,
            notification: nil, userData: "", tags: "", requestID: "", requestDefinition: definition))
    }

    /// Queues a clustering of the dataset's waiting faces, as IMM's CreateFigureClusteringTask does.
    public func submitClustering(dataset: DatasetKey) async throws -> MediaTask {
        try await submit(Submission(
            account: dataset.accountID, project: dataset.project, dataset: dataset.dataset, kind: .clustering,
            idPrefix: Kind.clustering.rawValue, notification: nil, userData: "", tags: "", requestID: "", requestDefinition: "{}"))
    }

    /// The task `id` of kind `kind` of a dataset; not found when it is another dataset's or kind's.
    public func task(dataset: DatasetKey, id: String, kind: Kind) async throws -> MediaTask {
        guard let task = try await tasks.task(id: id), task.type == kind.rawValue, task.accountID == dataset.accountID,
              task.project == dataset.project, task.dataset == dataset.dataset
        else { throw VisageError.notFound(kind: .task, name: id) }
        return task
    }

    /// The re-clustering task `id` of a dataset, with its preview once it succeeded.
    public func reclusterTask(dataset: DatasetKey, id: String) async throws -> ReclusterTask {
        let task = try await task(dataset: dataset, id: id, kind: .reclustering)
        guard task.status == .succeeded else { return ReclusterTask(task: task, preview: nil) }
        return ReclusterTask(task: task, preview: try JSONDecoder().decode(ReclusterPreview.self, from: Data(task.result.utf8)))
    }

    /// Runs a queued re-clustering; returns its preview as the task's result.
    func runRecluster(_ task: MediaTask, dataset: DatasetKey, progress: @Sendable (Double) async -> Void) async throws -> String {
        let request = try JSONDecoder().decode(ReclusterRequest.self, from: Data(task.requestDefinition.utf8))
        let preview = try await recluster(dataset: dataset, settings: request.settings, apply: request.apply, progress: progress)
        return String(decoding: try JSONEncoder().encode(preview), as: UTF8.self)
    }
}
