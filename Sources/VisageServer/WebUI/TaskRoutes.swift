import Foundation
import Hummingbird
import VisageCore
import VisageMedia

/// `GET /visage/v1/tasks`: the newest media tasks with their progress and the newest face
/// comparisons, for the web UI's Tasks page. It names projects, datasets and files, so it answers
/// callers on this machine only.
struct TaskRoutes {
    let tasks: MediaTaskStore
    let comparisons: FaceComparisons

    func add(to router: Router<VisageContext>) {
        router.get("visage/v1/tasks") { _, context -> Response in
            guard UploadTokenRoutes.isLoopback(context.remoteAddress) else {
                throw WireError(status: .forbidden, code: "Forbidden", message: "The task list answers callers on this machine only.")
            }
            let summaries = try await tasks.recent(limit: 50)
            let compared = try await comparisons.recent(limit: 50)
            return UploadTokenRoutes.json(["Tasks": summaries.map(Self.summary), "Comparisons": compared.map(Self.comparison)])
        }
    }

    static func summary(_ summary: MediaTaskStore.Summary) -> [String: any Sendable] {
        let task = summary.task
        var body: [String: any Sendable] = [
            "TaskId": task.id, "TaskType": task.type, "ProjectName": task.project, "DatasetName": task.dataset,
            "Status": task.status.rawValue, "Progress": task.progress, "Message": task.message,
            "StartTime": MediaTime.text(task.started), "FilesDone": summary.filesDone, "FilesFailed": summary.filesFailed,
            "FilesTotal": summary.filesTotal,
        ]
        if let ended = task.ended { body["EndTime"] = MediaTime.text(ended) }
        return body
    }

    /// A comparison: `Running`, `Succeeded` (with its similarity), `Failed` (with why) or `Expired`.
    static func comparison(_ record: ComparisonRecord) -> [String: any Sendable] {
        var body: [String: any Sendable] = ["TaskId": record.id, "Origin": record.origin, "StartTime": MediaTime.text(record.created)]
        if let finished = record.finished { body["EndTime"] = MediaTime.text(finished) }
        switch record.state {
        case .pending: body["Status"] = "Running"
        case .expired: body["Status"] = "Expired"
        case let .finished(.compared(result)):
            body["Status"] = "Succeeded"
            body["Similarity"] = result.similarity
            body["Message"] = result.samePerson ? "same person" : "different people"
        case let .finished(.failed(failure)):
            body["Status"] = "Failed"
            body["Message"] = failure.description
        }
        return body
    }
}
