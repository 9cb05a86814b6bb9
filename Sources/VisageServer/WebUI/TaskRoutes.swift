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
            var listed: [[String: any Sendable]] = []
            for summary in summaries {
                var body = Self.summary(summary)
                // The files that failed, by name and cause, so nobody has to dig for them.
                if summary.filesFailed > 0 {
                    let failed = try await tasks.files(of: summary.task.id).filter { $0.status == .failed }.prefix(Self.failuresShown)
                    body["FailedFiles"] = failed.map { ["URI": $0.uri, "Error": $0.error] }
                }
                listed.append(body)
            }
            return UploadTokenRoutes.json(["Tasks": listed, "Comparisons": compared.map(Self.comparison)])
        }
    }

    /// How many failed files a task lists.
    static let failuresShown = 10

    static func summary(_ summary: MediaTaskStore.Summary) -> [String: any Sendable] {
        let task = summary.task
        var body: [String: any Sendable] = [
            "TaskId": task.id, "TaskType": task.type, "ProjectName": task.project, "DatasetName": task.dataset,
            "Status": task.status.rawValue, "Progress": task.progress, "Message": task.message,
            "StartTime": MediaTime.text(task.started), "FilesDone": summary.filesDone, "FilesFailed": summary.filesFailed,
            "FilesTotal": summary.filesTotal, "Origin": task.requestID == CommandRun.requestID ? "command" : "api",
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
