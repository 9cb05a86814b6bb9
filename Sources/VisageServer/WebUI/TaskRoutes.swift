import Foundation
import Hummingbird
import VisageCore
import VisageMedia

/// `GET /visage/v1/tasks`: the newest media tasks with their progress, for the web UI's Tasks
/// page. It names projects, datasets and files, so it answers callers on this machine only.
struct TaskRoutes {
    let tasks: MediaTaskStore

    func add(to router: Router<VisageContext>) {
        router.get("visage/v1/tasks") { _, context -> Response in
            guard UploadTokenRoutes.isLoopback(context.remoteAddress) else {
                throw WireError(status: .forbidden, code: "Forbidden", message: "The task list answers callers on this machine only.")
            }
            let summaries = try await tasks.recent(limit: 50)
            return UploadTokenRoutes.json(["Tasks": summaries.map(Self.summary)])
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
}
