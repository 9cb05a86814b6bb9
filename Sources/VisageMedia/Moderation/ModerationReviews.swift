import Foundation
import SQLKit
import VisageCore
import VisageStore
import VisageVision

/// When a moderated image goes to a person: a label whose confidence lies in the band (the
/// models saw something, but not surely), and how many reviews an account may have open.
public struct ReviewSettings: Sendable, Equatable {
    /// Labels with a confidence from `lower` up to (not including) `upper` start a review.
    public var lower = 50.0
    public var upper = 90.0
    /// Open reviews an account may have at once.
    public var pendingLimit = 100

    public init() {}

    /// `LOWER-UPPER`, e.g. `50-90`.
    public static func band(_ text: String) -> (Double, Double)? {
        let parts = text.split(separator: "-").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, 0 <= parts[0], parts[0] < parts[1], parts[1] <= 100 else { return nil }
        return (parts[0], parts[1])
    }
}

/// A reviewer's verdict on one machine label: the label is right (approve) or wrong (reject).
public enum ReviewVerdict: String, Sendable, Codable, CaseIterable {
    case approve, reject
}

/// One decision as recorded.
public struct ReviewDecision: Sendable, Codable, Equatable {
    public let category: ModerationCategory
    public let verdict: ReviewVerdict
    public let reviewer: String
    public let decided: Date
}

/// A human review of one moderated image.
public struct ModerationReview: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pending, completed
    }

    public let id: String
    public let accountID: String
    public let name: String
    /// The review workflow the caller named (opaque here).
    public let flow: String
    /// The dialect that started the review, and what it echoes back (opaque here).
    public let origin: String
    public let reference: String
    public let status: Status
    /// The machine's labels the reviewer judges.
    public let labels: [ModerationLabel]
    public let imageFormat: String
    public let created: Date
    public let completed: Date?
    /// Every decision, oldest first.
    public let decisions: [ReviewDecision]

    /// The latest verdict on each label.
    public var verdicts: [ModerationCategory: ReviewVerdict] {
        decisions.reduce(into: [:]) { $0[$1.category] = $1.verdict }
    }
}

/// Why a review cannot be started or decided.
public enum ReviewFailure: Error, Sendable, Equatable {
    case quotaExceeded(limit: Int)
    case nameInUse(String)
    case notFound
    case completed
    case notALabel
}

/// Human reviews of moderated images, kept in the metadata store: started when a label falls in
/// the configured band, listed for reviewers, decided label by label. A review is completed once
/// every label has a verdict; later decisions are refused, so what a caller read stays true.
public struct ModerationReviews: Sendable {
    let store: MetadataStore
    public let settings: ReviewSettings
    let now: @Sendable () -> Int64

    public init(store: MetadataStore, settings: ReviewSettings = ReviewSettings(), clock: @escaping @Sendable () -> Int64 = WallClock.nowMillis) {
        self.store = store
        self.settings = settings
        self.now = clock
    }

    /// The labels that fall in the review band.
    public func triggers(_ labels: [ModerationLabel]) -> [ModerationLabel] {
        labels.filter { $0.confidence >= settings.lower && $0.confidence < settings.upper }
    }

    /// Starts a review, unless the account already has `pendingLimit` open or uses the name.
    public func start(name: String, flow: String, accountID: String, origin: String, reference: String, labels: [ModerationLabel],
                      image: [UInt8], imageFormat: String, requestID: String) async throws -> ModerationReview {
        let id = "rev" + Identifiers.opaque()
        let created = now()
        let labelText = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
        let limit = settings.pendingLimit
        try await store.withTransaction { db in
            if store.kind == .postgres {
                // Two starts for one account at once must not both pass the quota check.
                try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "reviews:" + accountID)))").run()
            }
            let taken = try await db.raw("""
                SELECT id FROM moderation_reviews WHERE account_id = \(bind: accountID) AND name = \(bind: name)
                """).first()
            guard taken == nil else { throw ReviewFailure.nameInUse(name) }
            let open = try await db.raw("""
                SELECT COUNT(*) AS n FROM moderation_reviews WHERE account_id = \(bind: accountID) AND status = 'pending'
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            guard open < limit else { throw ReviewFailure.quotaExceeded(limit: limit) }
            try await db.raw("""
                INSERT INTO moderation_reviews (id, account_id, name, flow, origin, reference, status, labels, image, image_format,
                                                request_id, created_at)
                VALUES (\(bind: id), \(bind: accountID), \(bind: name), \(bind: flow), \(bind: origin), \(bind: reference), 'pending',
                        \(bind: labelText), \(bind: Data(image)), \(bind: imageFormat), \(bind: requestID), \(bind: created))
                """).run()
        }
        return ModerationReview(id: id, accountID: accountID, name: name, flow: flow, origin: origin, reference: reference,
                                status: .pending, labels: labels, imageFormat: imageFormat, created: Self.date(created), completed: nil,
                                decisions: [])
    }

    /// Records a verdict on one label of a pending review; the review completes with its last label.
    public func decide(id: String, category: ModerationCategory, verdict: ReviewVerdict, reviewer: String) async throws -> ModerationReview {
        let moment = now()
        try await store.withTransaction { db in
            // The row lock (PostgreSQL) keeps two reviewers from completing one review twice.
            let lock = store.kind == .postgres ? "FOR UPDATE" : ""
            guard let row = try await db.raw("SELECT status, labels FROM moderation_reviews WHERE id = \(bind: id) \(unsafeRaw: lock)").first()
            else { throw ReviewFailure.notFound }
            guard try row.decode(column: "status", as: String.self) == "pending" else { throw ReviewFailure.completed }
            let labels = try JSONDecoder().decode([ModerationLabel].self, from: Data(try row.decode(column: "labels", as: String.self).utf8))
            guard labels.contains(where: { $0.category == category }) else { throw ReviewFailure.notALabel }
            try await db.raw("""
                INSERT INTO moderation_review_decisions (review_id, category, verdict, reviewer, decided_at)
                VALUES (\(bind: id), \(bind: category.rawValue), \(bind: verdict.rawValue), \(bind: reviewer), \(bind: moment))
                """).run()
            let decided = try await db.raw("""
                SELECT DISTINCT category FROM moderation_review_decisions WHERE review_id = \(bind: id)
                """).all().map { try $0.decode(column: "category", as: String.self) }
            if Set(labels.map(\.category.rawValue)).isSubset(of: Set(decided)) {
                try await db.raw("""
                    UPDATE moderation_reviews SET status = 'completed', completed_at = \(bind: moment) WHERE id = \(bind: id)
                    """).run()
            }
        }
        guard let review = try await review(id: id) else { throw ReviewFailure.notFound }
        return review
    }

    public func review(id: String) async throws -> ModerationReview? {
        try await load([id]).first
    }

    public func review(name: String, accountID: String) async throws -> ModerationReview? {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT id FROM moderation_reviews WHERE account_id = \(bind: accountID) AND name = \(bind: name)").first()
        }
        guard let id = try row?.decode(column: "id", as: String.self) else { return nil }
        return try await review(id: id)
    }

    /// The image a review shows, with its format.
    public func image(id: String) async throws -> (bytes: [UInt8], format: String)? {
        try await store.withConnection { db in
            try await db.raw("SELECT image, image_format FROM moderation_reviews WHERE id = \(bind: id)").first()
        }.map { ([UInt8](try $0.decode(column: "image", as: Data.self)), try $0.decode(column: "image_format", as: String.self)) }
    }

    /// Reviews of every account, newest first (pending, or completed), for the reviewers' page.
    public func recent(status: ModerationReview.Status, limit: Int = 100) async throws -> [ModerationReview] {
        let ids = try await store.withConnection { db in
            try await db.raw("""
                SELECT id FROM moderation_reviews WHERE status = \(bind: status.rawValue) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """).all()
        }.map { try $0.decode(column: "id", as: String.self) }
        return try await load(ids)
    }

    /// One account's reviews of a workflow in a time window, in creation order, a page at a time.
    public func list(accountID: String, flow: String?, createdAfter: Date?, createdBefore: Date?, ascending: Bool, offset: Int,
                     limit: Int) async throws -> [ModerationReview] {
        let after = createdAfter.map { Int64($0.timeIntervalSince1970 * 1000) } ?? Int64.min
        let before = createdBefore.map { Int64($0.timeIntervalSince1970 * 1000) } ?? Int64.max
        let order = ascending ? "ASC" : "DESC"
        let ids = try await store.withConnection { db in
            try await db.raw("""
                SELECT id FROM moderation_reviews WHERE account_id = \(bind: accountID) AND created_at > \(bind: after)
                AND created_at < \(bind: before) AND (\(bind: flow == nil ? 1 : 0) = 1 OR flow = \(bind: flow ?? ""))
                ORDER BY created_at \(unsafeRaw: order), id \(unsafeRaw: order) LIMIT \(bind: limit) OFFSET \(bind: offset)
                """).all()
        }.map { try $0.decode(column: "id", as: String.self) }
        return try await load(ids)
    }

    /// The reviews with these ids, in the order given.
    private func load(_ ids: [String]) async throws -> [ModerationReview] {
        guard !ids.isEmpty else { return [] }
        let (rows, decisionRows) = try await store.withConnection { db in
            let rows = try await db.raw("""
                SELECT id, account_id, name, flow, origin, reference, status, labels, image_format, created_at, completed_at
                FROM moderation_reviews WHERE id IN (\(binds: ids))
                """).all()
            let decisions = try await db.raw("""
                SELECT review_id, category, verdict, reviewer, decided_at FROM moderation_review_decisions
                WHERE review_id IN (\(binds: ids)) ORDER BY id
                """).all()
            return (rows, decisions)
        }
        var decisions: [String: [ReviewDecision]] = [:]
        for row in decisionRows {
            guard let category = ModerationCategory(rawValue: try row.decode(column: "category", as: String.self)),
                  let verdict = ReviewVerdict(rawValue: try row.decode(column: "verdict", as: String.self)) else { continue }
            decisions[try row.decode(column: "review_id", as: String.self), default: []].append(
                ReviewDecision(category: category, verdict: verdict, reviewer: try row.decode(column: "reviewer", as: String.self),
                               decided: Self.date(try row.decode(column: "decided_at", as: Int64.self))))
        }
        let found = try rows.map { row in
            let id = try row.decode(column: "id", as: String.self)
            return ModerationReview(
                id: id, accountID: try row.decode(column: "account_id", as: String.self), name: try row.decode(column: "name", as: String.self),
                flow: try row.decode(column: "flow", as: String.self), origin: try row.decode(column: "origin", as: String.self),
                reference: try row.decode(column: "reference", as: String.self),
                status: ModerationReview.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .pending,
                labels: try JSONDecoder().decode([ModerationLabel].self, from: Data(try row.decode(column: "labels", as: String.self).utf8)),
                imageFormat: try row.decode(column: "image_format", as: String.self),
                created: Self.date(try row.decode(column: "created_at", as: Int64.self)),
                completed: try row.decode(column: "completed_at", as: Int64?.self).map(Self.date), decisions: decisions[id] ?? [])
        }
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byID[$0] }
    }

    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
