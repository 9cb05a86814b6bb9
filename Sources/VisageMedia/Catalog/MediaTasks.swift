import Foundation
import SQLKit
import VisageCore
import VisageJobs
import VisageStore

/// An asynchronous media task as GetTask and ListTasks show it.
public struct MediaTask: Sendable, Equatable {
    public enum Status: String, Sendable {
        case running = "Running"
        case succeeded = "Succeeded"
        case failed = "Failed"
    }

    public let id: String
    public let accountID: String
    public let project: String
    public let dataset: String
    public let type: String
    public let eventID: String
    public var status: Status
    public var code: String
    public var message: String
    /// Percent done, 0–100.
    public var progress: Int
    public let userData: String
    /// The Tags parameter (a JSON object of strings), as given.
    public let tags: String
    public let notification: String
    /// The request's parameters as JSON, for GetTask's RequestDefinition.
    public let requestDefinition: String
    public let requestID: String
    public let started: Date
    public var ended: Date?
    /// What the task produced, for its caller to read back ("" for none).
    public var result = ""
}

/// One file of an indexing task and how it went.
public struct MediaTaskFile: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pending, done, failed
    }

    public let seq: Int
    public let uri: String
    public let input: InputFile
    public var status: Status
    /// `[Code] message` of a failed file, empty otherwise.
    public var error: String
}

/// How ListTasks narrows and orders tasks.
public struct TaskListing: Sendable {
    public var types: [String] = []
    public var status: MediaTask.Status?
    public var sortByStart = false
    public var descending = false
    public var limit = 100
    public var offset = 0

    public init() {}
}

/// Media task records in the metadata store (the durable queue holds the work itself).
public struct MediaTaskStore: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Writes a new running task and its files in the caller's transaction.
    public func insert(_ task: MediaTask, files: [InputFile], db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO media_tasks (id, account_id, project, dataset, task_type, event_id, status, code, message, progress,
                                     user_data, tags, notification, request_definition, request_id, started_at)
            VALUES (\(bind: task.id), \(bind: task.accountID), \(bind: task.project), \(bind: task.dataset), \(bind: task.type),
                    \(bind: task.eventID), \(bind: task.status.rawValue), \(bind: task.code), \(bind: task.message),
                    \(bind: task.progress), \(bind: task.userData), \(bind: task.tags), \(bind: task.notification),
                    \(bind: task.requestDefinition), \(bind: task.requestID), \(bind: WallClock.millis(task.started)))
            """).run()
        for (seq, file) in files.enumerated() {
            let input = JSONValue.object(file.given.merging(["URI": .string(file.uri)]) { given, _ in given }).text
            try await db.raw("""
                INSERT INTO media_task_files (task_id, seq, uri, input, status, error)
                VALUES (\(bind: task.id), \(bind: seq), \(bind: file.uri), \(bind: input), 'pending', '')
                """).run()
        }
    }

    public func task(id: String) async throws -> MediaTask? {
        try await store.withConnection { db in
            try await db.raw("SELECT * FROM media_tasks WHERE id = \(bind: id)").first().map(Self.task)
        }
    }

    /// The task of a project, checking its type as GetTask names it.
    public func task(account: String, project: String, type: String, id: String) async throws -> MediaTask {
        guard let task = try await task(id: id), task.accountID == account, task.project == project, task.type == type else {
            throw VisageError.notFound(kind: .task, name: id)
        }
        return task
    }

    public func tasks(account: String, project: String, _ listing: TaskListing) async throws -> [MediaTask] {
        var sql: SQLQueryString = "SELECT * FROM media_tasks WHERE account_id = \(bind: account) AND project = \(bind: project)"
        if !listing.types.isEmpty { sql = sql + " AND task_type IN (\(binds: listing.types))" }
        if let status = listing.status { sql = sql + " AND status = \(bind: status.rawValue)" }
        let direction: SQLQueryString = listing.descending ? "DESC" : "ASC"
        sql = sql + (listing.sortByStart ? " ORDER BY started_at " : " ORDER BY id ") + direction
        sql = sql + ", id LIMIT \(bind: listing.limit) OFFSET \(bind: listing.offset)"
        let query = sql
        return try await store.withConnection { db in try await db.raw(query).all() }.map(Self.task)
    }

    /// A task with how many of its files are done and failed.
    public struct Summary: Sendable {
        public let task: MediaTask
        public let filesDone: Int
        public let filesFailed: Int
        public let filesTotal: Int
    }

    /// How many tasks of every project are running.
    public func runningCount() async throws -> Int {
        try await store.withConnection { db in
            try await db.raw("SELECT COUNT(*) AS n FROM media_tasks WHERE status = \(bind: MediaTask.Status.running.rawValue)").first()
        }?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The newest tasks of every project, newest first, with their file counts.
    public func recent(limit: Int = 50) async throws -> [Summary] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT t.*,
                  (SELECT COUNT(*) FROM media_task_files f WHERE f.task_id = t.id AND f.status = 'done') AS files_done,
                  (SELECT COUNT(*) FROM media_task_files f WHERE f.task_id = t.id AND f.status = 'failed') AS files_failed,
                  (SELECT COUNT(*) FROM media_task_files f WHERE f.task_id = t.id) AS files_total
                FROM media_tasks t ORDER BY t.started_at DESC, t.id LIMIT \(bind: limit)
                """).all()
        }.map { row in
            Summary(task: try Self.task(row), filesDone: try row.decode(column: "files_done", as: Int.self),
                    filesFailed: try row.decode(column: "files_failed", as: Int.self),
                    filesTotal: try row.decode(column: "files_total", as: Int.self))
        }
    }

    public func files(of taskID: String) async throws -> [MediaTaskFile] {
        try await store.withConnection { db in
            try await db.raw("SELECT * FROM media_task_files WHERE task_id = \(bind: taskID) ORDER BY seq").all()
        }.map { row in
            let input = try InputFile(JSONValue(parsing: try row.decode(column: "input", as: String.self)) ?? .null, field: "File")
            return MediaTaskFile(
                seq: try row.decode(column: "seq", as: Int.self), uri: try row.decode(column: "uri", as: String.self), input: input,
                status: MediaTaskFile.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
                error: try row.decode(column: "error", as: String.self))
        }
    }

    /// Records how one file went, in the caller's transaction.
    public func finish(taskID: String, file: MediaTaskFile, db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE media_task_files SET status = \(bind: file.status.rawValue), error = \(bind: file.error)
            WHERE task_id = \(bind: taskID) AND seq = \(bind: file.seq)
            """).run()
    }

    public func setProgress(taskID: String, percent: Int) async throws {
        try await store.withConnection { db in
            try await db.raw("UPDATE media_tasks SET progress = \(bind: percent) WHERE id = \(bind: taskID)").run()
        }
    }

    /// Ends the task with what it produced (if anything), in the caller's transaction.
    public func end(taskID: String, status: MediaTask.Status, code: String, message: String, result: String = "",
                    at ended: Int64, db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE media_tasks SET status = \(bind: status.rawValue), code = \(bind: code), message = \(bind: message),
                result = \(bind: result), progress = 100, ended_at = \(bind: ended)
            WHERE id = \(bind: taskID)
            """).run()
    }

    static func task(_ row: any SQLRow) throws -> MediaTask {
        MediaTask(
            id: try row.decode(column: "id", as: String.self), accountID: try row.decode(column: "account_id", as: String.self),
            project: try row.decode(column: "project", as: String.self), dataset: try row.decode(column: "dataset", as: String.self),
            type: try row.decode(column: "task_type", as: String.self), eventID: try row.decode(column: "event_id", as: String.self),
            status: MediaTask.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            code: try row.decode(column: "code", as: String.self), message: try row.decode(column: "message", as: String.self),
            progress: try row.decode(column: "progress", as: Int.self), userData: try row.decode(column: "user_data", as: String.self),
            tags: try row.decode(column: "tags", as: String.self), notification: try row.decode(column: "notification", as: String.self),
            requestDefinition: try row.decode(column: "request_definition", as: String.self),
            requestID: try row.decode(column: "request_id", as: String.self),
            started: WallClock.date(millis: try row.decode(column: "started_at", as: Int64.self)),
            ended: try row.decode(column: "ended_at", as: Int64?.self).map(WallClock.date(millis:)),
            result: try row.decode(column: "result", as: String.self))
    }
}

/// Checks shared by every media task request.
enum MediaTaskRequest {
    /// Refuses a request whose dataset does not exist or whose UserData is too long; returns the
    /// notification target as the task stores it ("" for none).
    static func check(account: String, project: String, dataset: String, userData: String, notification: NotificationTarget?,
                      datasets: DatasetCatalog) async throws -> String {
        _ = try await datasets.dataset(account: account, project: project, name: dataset)
        guard userData.utf8.count <= 2048 else {
            throw VisageError.invalidArgument(field: "UserData", message: "must be at most 2048 bytes")
        }
        return try notification.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? ""
    }
}
