import Foundation
import SQLKit
import Synchronization
import VisageCore
import VisageStore

/// Work a command-line run does on a data directory (indexing a folder, clustering), recorded as
/// a media task so the Tasks page and ListTasks show it beside the API's tasks, with each file's
/// outcome. The run's process id is kept: a run whose process is gone without ending it (killed,
/// crashed) is ended as failed by the next run, so no task stays "Running" for ever.
public final class CommandRun: Sendable {
    /// `RequestId` of tasks that a command ran.
    public static let requestID = "visage-cli"

    public let task: MediaTask
    let tasks: MediaTaskStore
    let store: MetadataStore
    /// The percent last written, so a fine-grained progress callback writes only on change.
    let written = Mutex(-1)

    init(task: MediaTask, tasks: MediaTaskStore, store: MetadataStore) {
        self.task = task
        self.tasks = tasks
        self.store = store
    }

    /// Records the run as a running task of `dataset` with `files` pending (none for clustering).
    public static func start(store: MetadataStore, dataset: DatasetKey, type: String, files: [InputFile] = []) async throws -> CommandRun {
        let tasks = MediaTaskStore(store: store)
        try await endAbandoned(store: store, tasks: tasks)
        let eventID = Identifiers.eventID()
        let definition = JSONValue.object(["Pid": .number(Double(ProcessInfo.processInfo.processIdentifier)),
                                           "Host": .string(ProcessInfo.processInfo.hostName)]).text
        let task = MediaTask(
            id: eventID, accountID: dataset.accountID, project: dataset.project, dataset: dataset.dataset, type: type,
            eventID: eventID, status: .running, code: "", message: "", progress: 0, userData: "", tags: "{}", notification: "",
            requestDefinition: definition, requestID: requestID, started: Date(), ended: nil)
        try await store.withTransaction { db in try await tasks.insert(task, files: files, db: db) }
        return CommandRun(task: task, tasks: tasks, store: store)
    }

    /// Records how file number `seq` went (an empty `error` is success).
    public func file(_ seq: Int, uri: String, error: String = "") async throws {
        let outcome = MediaTaskFile(seq: seq, uri: uri, input: InputFile(uri: uri), status: error.isEmpty ? .done : .failed, error: error)
        try await store.withTransaction { db in try await tasks.finish(taskID: task.id, file: outcome, db: db) }
    }

    public func progress(_ fraction: Double) async throws {
        let percent = min(99, max(0, Int(fraction * 100)))
        guard written.withLock({ last in
            defer { last = max(last, percent) }
            return percent > last
        }) else { return }
        try await tasks.setProgress(taskID: task.id, percent: percent)
    }

    /// Ends the run: failed with `message` when given, succeeded otherwise.
    public func end(failure message: String? = nil) async throws {
        try await store.withTransaction { db in
            try await tasks.end(taskID: task.id, status: message == nil ? .succeeded : .failed,
                                code: message == nil ? "" : "CommandFailed", message: message ?? "", at: WallClock.nowMillis(), db: db)
        }
    }

    /// Ends the running tasks of commands whose process no longer exists.
    static func endAbandoned(store: MetadataStore, tasks: MediaTaskStore) async throws {
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT id, request_definition FROM media_tasks
                WHERE request_id = \(bind: requestID) AND status = \(bind: MediaTask.Status.running.rawValue)
                """).all()
        }
        for row in rows {
            let definition = JSONValue(parsing: try row.decode(column: "request_definition", as: String.self))?.objectValue ?? [:]
            // Only this machine's processes can be checked; another host's runs are left to it.
            guard definition["Host"]?.stringValue == ProcessInfo.processInfo.hostName,
                  let pid = definition["Pid"]?.numberValue.map({ pid_t($0) }), !Self.alive(pid) else { continue }
            let id = try row.decode(column: "id", as: String.self)
            try await store.withTransaction { db in
                try await tasks.end(taskID: id, status: .failed, code: "CommandStopped",
                                    message: "the command stopped before it finished (process \(pid) is gone)",
                                    at: WallClock.nowMillis(), db: db)
            }
        }
    }

    /// Whether a process exists (signal 0 checks without sending anything).
    static func alive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
