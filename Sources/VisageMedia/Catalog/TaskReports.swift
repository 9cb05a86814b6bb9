import Foundation
import VisageCore
import VisageJobs
import VisageStore

/// What a finished media task did, in the core's terms. The dialect that took the request
/// renders it for its caller (`TaskEventFormat`): IMM's MNS/EventBridge message today.
public struct TaskReport: Sendable {
    /// What the task did.
    public enum Outcome: Sendable {
        /// Indexing: every file of the task, each done or failed with its error.
        case filesIndexed([MediaTaskFile])
        /// A clustering run: the people it made and changed (nil when it failed before any).
        case peopleClustered(ClusteringOutcome?)
        /// A merge of people into one; `movedFaces` faces changed person.
        case peopleMerged(into: String, from: [String], movedFaces: Int)
        /// A re-clustering from scratch (its preview is the task's result).
        case reclustered
    }

    public let task: MediaTask
    /// When the task ended, in milliseconds.
    public let ended: Int64
    /// Why the task failed as a whole, if it did.
    public let failure: VisageError?
    /// The task's own summary (empty when there is nothing to say).
    public let message: String
    public let outcome: Outcome
}

/// How one dialect names task failures and tells a task's caller that it finished.
public protocol TaskEventFormat: Sendable {
    /// The code a failure is stored and shown with (a task's `Code`).
    func code(for failure: VisageError) -> String
    /// How one failed file's error is written in the task's file list.
    func fileError(_ failure: VisageError) -> String
    /// The event type and message body of a finished task's notification.
    func event(_ report: TaskReport) -> (type: String, body: String)
}

extension TaskReport {
    /// Ends the task (failed when `failure` is set) and queues its caller's notification, when
    /// it asked for one, in one transaction; `result` is what the caller reads back.
    func finish(store: MetadataStore, tasks: MediaTaskStore, outbox: NotificationOutbox, events: any TaskEventFormat,
                result: String = "") async throws {
        let target = task.notification.isEmpty ? nil
            : try? JSONDecoder().decode(NotificationTarget.self, from: Data(task.notification.utf8))
        let report = self
        try await store.withTransaction { db in
            try await tasks.end(taskID: report.task.id, status: report.failure == nil ? .succeeded : .failed,
                                code: report.failure.map(events.code) ?? "", message: report.message, result: result,
                                at: report.ended, db: db)
            if let target {
                let (type, body) = events.event(report)
                try await outbox.enqueue(eventID: report.task.eventID, type: type, body: body, to: target, db: db)
            }
        }
    }
}

/// Visage's own names for task failures and its own task messages (a small JSON object), for
/// tasks no other dialect asked for: the terminal commands and Visage's own API.
public struct VisageTaskEvents: TaskEventFormat {
    public init() {}

    public func code(for failure: VisageError) -> String {
        switch failure {
        case .invalidArgument, .objectRejected, .malformedPolicy: "InvalidArgument"
        case .limitExceeded: "LimitExceeded"
        case .notFound: "NotFound"
        case .conflict: "Conflict"
        case .inUse: "InUse"
        case .forbidden: "Forbidden"
        case .tooLarge: "TooLarge"
        case .preconditionFailed: "PreconditionFailed"
        case .rangeNotSatisfiable: "RangeNotSatisfiable"
        case .internalFailure: "InternalError"
        case .unavailable: "ServiceUnavailable"
        }
    }

    public func fileError(_ failure: VisageError) -> String { "\(code(for: failure)): \(failure.description)" }

    public func event(_ report: TaskReport) -> (type: String, body: String) {
        let type = "visage:task:\(report.task.type)"
        let body = JSONValue.object([
            "id": .string(report.task.eventID), "type": .string(type), "taskId": .string(report.task.id),
            "status": .string(report.failure == nil ? "Succeeded" : "Failed"), "message": .string(report.message),
            "endTime": .string(MediaTime.text(millis: report.ended)),
        ]).text
        return (type, body)
    }
}
