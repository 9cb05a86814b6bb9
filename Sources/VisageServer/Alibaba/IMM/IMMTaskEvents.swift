import Foundation
import VisageCore
import VisageMedia

/// IMM's names for task failures and its task notifications: the MNS/EventBridge message with
/// `source` acs.imm and the task's fields as an escaped JSON string in `content`.
struct IMMTaskEvents: TaskEventFormat {
    let region: String

    func code(for failure: VisageError) -> String {
        switch failure {
        case .notFound: return "ResourceNotFound"
        case .forbidden: return "NoPermission"
        case .conflict: return "ResourceAlreadyExists"
        case .internalFailure: return "InternalError"
        case .unavailable: return "ServiceUnavailable"
        case .invalidArgument, .objectRejected, .malformedPolicy, .inUse, .limitExceeded, .tooLarge, .preconditionFailed,
             .rangeNotSatisfiable:
            return "InvalidArgument"
        }
    }

    /// `[Code] message`, as a file's error appears in notifications.
    func fileError(_ failure: VisageError) -> String {
        switch failure {
        case let .invalidArgument(_, message): return "[\(code(for: failure))] \(message)"
        default: return "[\(code(for: failure))] \(failure.description)"
        }
    }

    func event(_ report: TaskReport) -> (type: String, body: String) {
        let task = report.task
        var content: [String: JSONValue] = [
            "ProjectName": .string(task.project), "DatasetName": .string(task.dataset), "RequestId": .string(task.requestID),
            "StartTime": .string(MediaTime.text(task.started)), "EndTime": .string(MediaTime.text(millis: report.ended)),
            "UserData": .string(task.userData),
        ]
        let type: String
        switch report.outcome {
        case let .filesIndexed(files):
            type = "imm:FileMeta:Index"
            let failed = files.contains { $0.status == .failed }
            content["Success"] = .bool(report.failure == nil && !failed)
            content["Message"] = .string(report.message)
            content["Files"] = .array(files.map { .object(["URI": .string($0.uri), "Error": .string($0.error)]) })
        case let .peopleClustered(outcome):
            type = "imm:Task:FigureClustering"
            taskFields(report, into: &content)
            if let outcome {
                content["NewClusterCount"] = .number(Double(outcome.newClusterIDs.count))
                content["UpdatedClusterCount"] = .number(Double(outcome.updatedClusterIDs.count))
                content["UpdatedFigureCount"] = .number(Double(outcome.updatedFigureCount))
                content["NewClusterIds"] = .array(outcome.newClusterIDs.map(JSONValue.string))
                content["UpdatedClusterIds"] = .array(outcome.updatedClusterIDs.map(JSONValue.string))
            }
        case let .peopleMerged(target, sources, moved):
            type = "imm:Task:FigureClustersMerging"
            taskFields(report, into: &content)
            content["To"] = .string(target)
            content["Froms"] = .array(sources.map(JSONValue.string))
            content["UpdatedFigureCount"] = .number(Double(moved))
        case .reclustered:
            type = "imm:Task:\(report.task.type)"
            taskFields(report, into: &content)
        }
        let envelope = JSONValue.object([
            "id": .string(task.eventID), "source": .string("acs.imm"), "type": .string(type),
            "subject": .string("acs:imm:\(region):\(task.accountID):\(task.project)/\(type)"), "time": .string(String(report.ended)),
            "content": .string(JSONValue.object(content).text),
        ]).text
        return (type, envelope)
    }

    /// The fields every task message of the Task family carries.
    private func taskFields(_ report: TaskReport, into content: inout [String: JSONValue]) {
        content["TaskType"] = .string(report.task.type)
        content["TaskId"] = .string(report.task.id)
        content["Status"] = .string(report.failure == nil ? "Succeeded" : "Failed")
        content["Code"] = .string(report.failure.map(code) ?? "")
        content["Message"] = .string(report.failure.map(\.description) ?? "Success")
        content["EventSourceId"] = .string("")
    }
}
