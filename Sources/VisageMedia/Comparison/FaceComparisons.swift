import Foundation
import Logging
import SQLKit
import VisageCore
import VisageJobs
import VisageStore

/// One pair as a caller submits it.
public struct ComparisonSubmission: Sendable {
    /// What the dialect echoes back with the result (opaque to the core).
    public var reference: String
    public var first: ImageSource
    public var second: ImageSource

    public init(reference: String, first: ImageSource, second: ImageSource) {
        self.reference = reference
        self.first = first
        self.second = second
    }
}

/// Where a finished comparison is announced: a web URL, with what the dialect needs to render
/// and sign the message (opaque to the core).
public struct ComparisonCallback: Sendable, Equatable {
    public let target: NotificationTarget
    public let data: String

    public init(target: NotificationTarget, data: String) {
        self.target = target
        self.data = data
    }
}

/// A comparison as kept: pending, finished with its outcome, or finished so long ago that its
/// result is no longer kept.
public struct ComparisonRecord: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case pending
        case finished(ComparisonOutcome)
        case expired
    }

    public let id: String
    public let accountID: String
    public let origin: String
    public let reference: String
    public let first: ImageSource
    public let second: ImageSource
    public let state: State
    public let created: Date
    public let finished: Date?
}

/// How the dialect that took a comparison tells its caller the result (a callback body).
public protocol ComparisonEventFormat: Sendable {
    /// The callback's media type and body for a finished comparison; `data` is what the dialect
    /// stored with the callback.
    func callback(_ record: ComparisonRecord, outcome: ComparisonOutcome, data: String) -> (contentType: String, body: String)
}

/// How long results are kept and how many comparisons run at once.
public struct ComparisonSettings: Sendable {
    /// Results are answered this long after a comparison finished, then reported expired.
    public var retention: Duration = .seconds(4 * 3600)
    public var workers = 2
    public var fetch = ImageFetchLimits()

    public init() {}
}

/// Asynchronous 1:1 face comparisons: each pair is a row and an entry of the durable queue,
/// written in one transaction; a worker compares it once, and its result and callback are
/// written in one transaction too, so a restart neither loses a pair nor runs one twice.
public struct FaceComparisons: Sendable {
    public static let queueName = "compare"
    let store: MetadataStore
    let queue: TaskQueue
    let outbox: NotificationOutbox
    public let comparison: PairComparison
    let settings: ComparisonSettings
    /// Callback formats by origin (the dialect's name).
    let formats: [String: any ComparisonEventFormat]
    let now: @Sendable () -> Int64

    public init(store: MetadataStore, queue: TaskQueue, outbox: NotificationOutbox, comparison: PairComparison,
                settings: ComparisonSettings, formats: [String: any ComparisonEventFormat],
                clock: @escaping @Sendable () -> Int64 = WallClock.nowMillis) {
        self.store = store
        self.queue = queue
        self.outbox = outbox
        self.comparison = comparison
        self.settings = settings
        self.formats = formats
        self.now = clock
    }

    /// Queues the pairs in one transaction; returns their ids in order. `idPrefix` starts each id.
    public func submit(_ pairs: [ComparisonSubmission], accountID: String, origin: String, idPrefix: String,
                       callback: ComparisonCallback?, requestID: String) async throws -> [String] {
        let ids = pairs.map { _ in idPrefix + Identifiers.opaque() }
        let created = now()
        let callbackURL = callback?.target.url
        let encoder = JSONEncoder()
        try await store.withTransaction { db in
            for (id, pair) in zip(ids, pairs) {
                try await db.raw("""
                    INSERT INTO face_comparisons (id, account_id, origin, reference, first_source, second_source, callback_url,
                                                  callback_data, status, outcome, request_id, created_at)
                    VALUES (\(bind: id), \(bind: accountID), \(bind: origin), \(bind: pair.reference),
                            \(bind: String(decoding: try encoder.encode(pair.first), as: UTF8.self)),
                            \(bind: String(decoding: try encoder.encode(pair.second), as: UTF8.self)),
                            \(bind: callbackURL), \(bind: callback?.data ?? ""), 'pending', '', \(bind: requestID), \(bind: created))
                    """).run()
                try await queue.enqueue(queue: Self.queueName, payload: id, maxAttempts: 3, id: id, db: db)
            }
        }
        return ids
    }

    /// The account's comparisons among `ids` (others' and unknown ids are left out).
    public func records(_ ids: [String], accountID: String) async throws -> [String: ComparisonRecord] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM face_comparisons WHERE account_id = \(bind: accountID) AND id IN (\(binds: ids))
                """).all()
        }
        let moment = now()
        return Dictionary(try rows.map { try record($0, now: moment) }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The newest comparisons of every account, for the Tasks page.
    public func recent(limit: Int = 50) async throws -> [ComparisonRecord] {
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT * FROM face_comparisons ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)").all()
        }
        let moment = now()
        return try rows.map { try record($0, now: moment) }
    }

    /// Forgets results that expired more than a week ago (their ids then read as unknown).
    public func sweep() async throws {
        let cutoff = now() - 7 * 24 * 3600 * 1000
        try await store.withConnection { db in
            try await db.raw("DELETE FROM face_comparisons WHERE expires_at IS NOT NULL AND expires_at < \(bind: cutoff)").run()
        }
    }

    /// The worker pool that compares queued pairs.
    public func workers(logger: Logger) -> WorkerPool {
        WorkerPool(queue: queue, queueName: Self.queueName, concurrency: settings.workers, pollInterval: .milliseconds(200),
                   logger: logger) { task, _ in
            try await run(task)
        }
    }

    /// Compares one queued pair, unless an earlier attempt already finished it.
    func run(_ task: QueuedTask) async throws -> String? {
        guard let row = try await store.withConnection({ db in
            try await db.raw("SELECT * FROM face_comparisons WHERE id = \(bind: task.payload)").first()
        }) else { return "gone" }
        let pending = try record(row, now: now())
        guard pending.state == .pending else { return "done before" }
        let outcome = await comparison.compare(pending.first, pending.second)
        if case let .failed(.internalError(message)) = outcome, !task.isLastAttempt {
            // Worth another attempt (the store or the models hiccuped); a domain failure is not.
            throw ComparisonFailure.internalError(message)
        }
        if Task.isCancelled { throw CancellationError() }
        try await finish(pending, outcome: outcome, callbackURL: try row.decode(column: "callback_url", as: String?.self),
                         callbackData: try row.decode(column: "callback_data", as: String.self))
        return outcome.summary
    }

    /// Stores the outcome and queues the callback in one transaction; a second finish of the
    /// same pair changes nothing.
    func finish(_ pending: ComparisonRecord, outcome: ComparisonOutcome, callbackURL: String?, callbackData: String) async throws {
        let finished = now()
        let retention = settings.retention.components
        let expires = finished + retention.seconds * 1000 + retention.attoseconds / 1_000_000_000_000_000
        let text = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        let done = ComparisonRecord(id: pending.id, accountID: pending.accountID, origin: pending.origin, reference: pending.reference,
                                    first: pending.first, second: pending.second, state: .finished(outcome), created: pending.created,
                                    finished: Date(timeIntervalSince1970: Double(finished) / 1000))
        let format = formats[pending.origin]
        try await store.withTransaction { db in
            let changed = try await db.raw("""
                UPDATE face_comparisons SET status = 'done', outcome = \(bind: text), finished_at = \(bind: finished),
                       expires_at = \(bind: expires)
                WHERE id = \(bind: pending.id) AND status = 'pending' RETURNING id
                """).all()
            guard !changed.isEmpty, let callbackURL, let format else { return }
            let message = format.callback(done, outcome: outcome, data: callbackData)
            try await outbox.enqueue(eventID: "compare-\(pending.id)", type: "FaceComparison", body: message.body,
                                     contentType: message.contentType, to: NotificationTarget(url: callbackURL, name: "HTTP"), db: db)
        }
    }

    private func record(_ row: any SQLRow, now moment: Int64) throws -> ComparisonRecord {
        let decoder = JSONDecoder()
        let status = try row.decode(column: "status", as: String.self)
        let expires = try row.decode(column: "expires_at", as: Int64?.self)
        let finished = try row.decode(column: "finished_at", as: Int64?.self)
        let state: ComparisonRecord.State
        if status == "pending" {
            state = .pending
        } else if let expires, expires <= moment {
            state = .expired
        } else {
            state = .finished(try decoder.decode(ComparisonOutcome.self, from: Data(try row.decode(column: "outcome", as: String.self).utf8)))
        }
        return ComparisonRecord(
            id: try row.decode(column: "id", as: String.self), accountID: try row.decode(column: "account_id", as: String.self),
            origin: try row.decode(column: "origin", as: String.self), reference: try row.decode(column: "reference", as: String.self),
            first: try decoder.decode(ImageSource.self, from: Data(try row.decode(column: "first_source", as: String.self).utf8)),
            second: try decoder.decode(ImageSource.self, from: Data(try row.decode(column: "second_source", as: String.self).utf8)),
            state: state, created: Date(timeIntervalSince1970: Double(try row.decode(column: "created_at", as: Int64.self)) / 1000),
            finished: finished.map { Date(timeIntervalSince1970: Double($0) / 1000) })
    }
}

extension ComparisonOutcome {
    /// One line for the queue's record of the work.
    var summary: String {
        switch self {
        case let .compared(result): String(format: "similarity %.3f", result.similarity)
        case let .failed(failure): "failed: \(failure)"
        }
    }
}
