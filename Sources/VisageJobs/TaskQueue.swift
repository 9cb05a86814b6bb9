import Foundation
import SQLKit
import VisageCore
import VisageStore

/// Where a queued task stands.
public enum TaskStatus: String, Sendable, Codable {
    case queued = "Queued"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
}

/// One unit of durable work and its bookkeeping.
public struct QueuedTask: Sendable, Equatable {
    public let id: String
    public let queue: String
    public let payload: String
    public let status: TaskStatus
    /// Leases taken so far, including the current one.
    public let attempts: Int
    public let maxAttempts: Int
    public let progress: Double
    public let lastError: String?
    public let result: String?
    public let leaseOwner: String?
    /// When a queued task may next be leased (after a retry's backoff).
    public let runAfter: Date
    public let created: Date
    public let updated: Date

    /// Whether a failure now is the task's last: the queue will not lease it again.
    public var isLastAttempt: Bool { attempts >= maxAttempts }

    /// What a failed attempt means for the work: a domain error (the request cannot be done)
    /// at once; any other error, or a service that is unavailable for now, only on the last
    /// attempt, so the work ends instead of showing Running for ever; nil lets the queue retry
    /// (and a worker being stopped is never a failure).
    public func failure(for error: any Error, doing work: String) -> VisageError? {
        if let error = error as? VisageError, !error.isTransient { return error }
        guard isLastAttempt, !(error is CancellationError) else { return nil }
        return .internalFailure(message: "\(work) failed on every attempt (\(attempts)): \(error)")
    }
}

/// A durable task queue in the metadata store. Workers lease a task for a limited time and renew
/// the lease with heartbeats; a task whose worker died is leased again once its lease expires.
/// Failed attempts are retried with exponential backoff up to `maxAttempts`.
public struct TaskQueue: Sendable {
    let store: MetadataStore
    public let leaseMillis: Int64
    public let backoffBaseMillis: Int64
    public let backoffCapMillis: Int64
    /// Milliseconds since 1970; replaceable so tests can move time without sleeping.
    let now: @Sendable () -> Int64

    public init(store: MetadataStore, lease: Duration = .seconds(60),
                backoffBase: Duration = .seconds(2), backoffCap: Duration = .seconds(600),
                clock: @escaping @Sendable () -> Int64 = WallClock.nowMillis) {
        self.store = store
        self.now = clock
        self.leaseMillis = lease.millis
        self.backoffBaseMillis = backoffBase.millis
        self.backoffCapMillis = backoffCap.millis
    }

    @discardableResult
    public func enqueue(queue: String, payload: String, maxAttempts: Int = 5, id: String = Identifiers.opaque())
        async throws -> String
    {
        try await store.withConnection { db in
            try await enqueue(queue: queue, payload: payload, maxAttempts: maxAttempts, id: id, db: db)
        }
    }

    /// Enqueues inside the caller's transaction, so the task exists exactly when the caller's
    /// other writes do.
    @discardableResult
    public func enqueue(queue: String, payload: String, maxAttempts: Int = 5, id: String = Identifiers.opaque(),
                        db: any SQLDatabase) async throws -> String
    {
        let now = self.now()
        try await db.raw("""
            INSERT INTO tasks (id, queue, payload, status, attempts, max_attempts, run_after, progress, created_at, updated_at)
            VALUES (\(bind: id), \(bind: queue), \(bind: payload), \(bind: TaskStatus.queued.rawValue), 0,
                    \(bind: maxAttempts), \(bind: now), 0, \(bind: now), \(bind: now))
            """).run()
        return id
    }

    /// How many tasks each queue holds in each status that is still to be done (queued or
    /// running), for the metrics.
    public func depths() async throws -> [(queue: String, status: TaskStatus, count: Int)] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT queue, status, COUNT(*) AS n FROM tasks WHERE status IN ('Queued', 'Running') GROUP BY queue, status
                ORDER BY queue, status
                """).all()
        }.compactMap { row in
            guard let status = TaskStatus(rawValue: try row.decode(column: "status", as: String.self)) else { return nil }
            return (try row.decode(column: "queue", as: String.self), status, try row.decode(column: "n", as: Int.self))
        }
    }

    /// The newest tasks of a queue, newest first.
    public func tasks(queue: String, limit: Int = 50) async throws -> [QueuedTask] {
        try await store.withConnection { db in
            let rows = try await db.raw("""
                SELECT id FROM tasks WHERE queue = \(bind: queue) ORDER BY created_at DESC, id LIMIT \(bind: limit)
                """).all()
            var tasks: [QueuedTask] = []
            for row in rows {
                if let task = try await Self.fetch(id: try row.decode(column: "id", as: String.self), db: db) { tasks.append(task) }
            }
            return tasks
        }
    }

    /// Takes the oldest ready task of `queue` for `owner`, or returns nil when none is ready.
    /// A running task whose lease ran out counts as ready (its worker is presumed dead).
    public func lease(queue: String, owner: String) async throws -> QueuedTask? {
        let now = self.now()
        let lock: SQLQueryString = store.kind == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        // One statement takes the task (on PostgreSQL skipping rows another worker is taking),
        // so a lease costs one round trip.
        return try await store.withConnection { db in
            try await db.raw("""
                UPDATE tasks SET status = \(bind: TaskStatus.running.rawValue), attempts = attempts + 1,
                    lease_owner = \(bind: owner), lease_expires = \(bind: now + leaseMillis), updated_at = \(bind: now)
                WHERE id = (
                    SELECT id FROM tasks
                    WHERE queue = \(bind: queue) AND attempts < max_attempts AND (
                        (status = \(bind: TaskStatus.queued.rawValue) AND run_after <= \(bind: now)) OR
                        (status = \(bind: TaskStatus.running.rawValue) AND lease_expires < \(bind: now)))
                    ORDER BY run_after, created_at LIMIT 1 \(lock))
                RETURNING \(Self.columns)
                """).first().map(Self.task)
        }
    }

    /// Fails for good the tasks whose worker died during their last attempt (their lease ran
    /// out and no attempt is left). Worker pools call it now and then, not on every poll.
    public func failAbandoned(queue: String) async throws {
        let now = self.now()
        try await store.withConnection { db in
            try await db.raw("""
                UPDATE tasks SET status = \(bind: TaskStatus.failed.rawValue), lease_owner = NULL, lease_expires = NULL,
                    last_error = COALESCE(last_error, 'the worker stopped responding'), updated_at = \(bind: now)
                WHERE queue = \(bind: queue) AND status = \(bind: TaskStatus.running.rawValue) AND lease_expires < \(bind: now)
                  AND attempts >= max_attempts
                """).run()
        }
    }

    /// Renews the lease and records progress in [0, 1]. Returns false if `owner` no longer holds it.
    @discardableResult
    public func heartbeat(id: String, owner: String, progress: Double? = nil) async throws -> Bool {
        let now = self.now()
        let progressSQL: SQLQueryString = progress.map { "progress = \(bind: min(1, max(0, $0))), " } ?? ""
        return try await updateHeld(id: id, owner: owner, """
            UPDATE tasks SET \(progressSQL)lease_expires = \(bind: now + leaseMillis), updated_at = \(bind: now)
            """)
    }

    /// Marks the task done with an optional result.
    @discardableResult
    public func complete(id: String, owner: String, result: String? = nil) async throws -> Bool {
        try await updateHeld(id: id, owner: owner, """
            UPDATE tasks SET status = \(bind: TaskStatus.succeeded.rawValue), progress = 1, result = \(bind: result),
                lease_owner = NULL, lease_expires = NULL, updated_at = \(bind: now())
            """)
    }

    /// Records a failed attempt: queued again after a backoff, or failed for good after the last attempt.
    @discardableResult
    public func fail(id: String, owner: String, error: String) async throws -> Bool {
        guard let task = try await task(id: id), task.leaseOwner == owner, task.status == .running else { return false }
        let now = self.now()
        if task.attempts >= task.maxAttempts {
            return try await updateHeld(id: id, owner: owner, """
                UPDATE tasks SET status = \(bind: TaskStatus.failed.rawValue), last_error = \(bind: error),
                    lease_owner = NULL, lease_expires = NULL, updated_at = \(bind: now)
                """)
        }
        let delay = min(backoffCapMillis, backoffBaseMillis << Int64(min(task.attempts - 1, 30)))
        return try await updateHeld(id: id, owner: owner, """
            UPDATE tasks SET status = \(bind: TaskStatus.queued.rawValue), last_error = \(bind: error),
                run_after = \(bind: now + delay), lease_owner = NULL, lease_expires = NULL, updated_at = \(bind: now)
            """)
    }

    /// Hands the task back without counting the attempt, for a worker that is shutting down.
    @discardableResult
    public func release(id: String, owner: String) async throws -> Bool {
        try await updateHeld(id: id, owner: owner, """
            UPDATE tasks SET status = \(bind: TaskStatus.queued.rawValue), attempts = attempts - 1,
                lease_owner = NULL, lease_expires = NULL, updated_at = \(bind: now())
            """)
    }

    public func task(id: String) async throws -> QueuedTask? {
        try await store.withConnection { db in try await Self.fetch(id: id, db: db) }
    }

    private func updateHeld(id: String, owner: String, _ update: SQLQueryString) async throws -> Bool {
        try await store.withConnection { db in
            try await db.raw(update + """
                 WHERE id = \(bind: id) AND lease_owner = \(bind: owner) AND status = \(bind: TaskStatus.running.rawValue)
                RETURNING id
                """).first() != nil
        }
    }

    static let columns: SQLQueryString = """
        id, queue, payload, status, attempts, max_attempts, progress, last_error, result, lease_owner, run_after, created_at, updated_at
        """

    private static func fetch(id: String, db: any SQLDatabase) async throws -> QueuedTask? {
        try await db.raw("SELECT \(columns) FROM tasks WHERE id = \(bind: id)").first().map(task)
    }

    static func task(_ row: any SQLRow) throws -> QueuedTask {
        return QueuedTask(
            id: try row.decode(column: "id", as: String.self),
            queue: try row.decode(column: "queue", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            status: TaskStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            progress: try row.decode(column: "progress", as: Double.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            result: try row.decode(column: "result", as: String?.self),
            leaseOwner: try row.decode(column: "lease_owner", as: String?.self),
            runAfter: WallClock.date(millis: try row.decode(column: "run_after", as: Int64.self)),
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}

extension Duration {
    var millis: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
