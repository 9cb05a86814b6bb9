import Crypto
import Foundation
import SQLKit
import VisageCore
import VisageStore
import VisageVision

/// How liveness sessions behave; each value is documented in docs/liveness.md.
public struct LivenessSettings: Sendable {
    /// The challenges drawn from at random, one per attempt.
    public var challenges: [LivenessChallenge] = LivenessChallenge.allCases
    public var rules = LivenessRules()
    /// Attempts (challenges handed out) per session token.
    public var maxAttempts = 3
    /// A session ends this long after it was created, whatever its token's lifetime.
    public var sessionLifetime: TimeInterval = 48 * 3600
    /// A challenge must be answered this soon after it was handed out.
    public var answerWithinSeconds = 60
    /// Frames a burst may hold, and the largest frame.
    public var frames = 5...20
    public var maxFrameBytes = 2 * 1024 * 1024
    /// Sessions one device may be named in per hour (against hammering).
    public var deviceSessionsPerHour = 30

    public init() {}
}

/// A client's answer to a challenge: the frames it captured while the person moved.
public struct LivenessBurst: Sendable {
    public var challengeID: String
    public var frames: [[UInt8]]
    /// The reference image, for a verifying session created without one.
    public var verifyImage: [UInt8]?
    /// Why the client's request could not be read as a burst (refused and audited as such).
    public var problem: String?

    public init(challengeID: String, frames: [[UInt8]], verifyImage: [UInt8]?, problem: String? = nil) {
        self.challengeID = challengeID
        self.frames = frames
        self.verifyImage = verifyImage
        self.problem = problem
    }
}

/// Liveness sessions: an application server opens one and hands its token to a client device,
/// which asks for a challenge and answers it with a burst of frames, at most `maxAttempts`
/// times; every client call is kept as an audit entry, the latest decision is the session's
/// result, and deleting the session revokes the token at once.
public struct LivenessSessions: Sendable {
    let store: MetadataStore
    let engine: SharedFaceEngine
    public let tokens: LivenessTokens
    public let settings: LivenessSettings

    public init(store: MetadataStore, engine: SharedFaceEngine, tokenKey: SymmetricKey, settings: LivenessSettings = LivenessSettings()) {
        self.store = store
        self.engine = engine
        self.tokens = LivenessTokens(key: tokenKey)
        self.settings = settings
    }

    // MARK: The application server's calls

    /// Opens a session; returns it and its client token.
    public func create(_ request: LivenessSessionRequest, accountID: String) async throws -> (LivenessSession, token: String) {
        guard try await engine.get().landmarker.model == .points68 else { throw LivenessFailure.needsLandmarks68 }
        let now = Date()
        if let device = request.deviceID {
            let since = WallClock.millis(now) - 3_600_000
            let recent = try await store.withConnection { db in
                try await db.raw("""
                    SELECT COUNT(*) AS n FROM liveness_sessions
                    WHERE account_id = \(bind: accountID) AND device_id = \(bind: device) AND created_at > \(bind: since)
                    """).first()?.decode(column: "n", as: Int.self) ?? 0
            }
            guard recent < settings.deviceSessionsPerHour else {
                throw LivenessFailure.tooManySessions(device: device, perHour: settings.deviceSessionsPerHour)
            }
        }
        var reference: VerifyReference?
        if let image = request.verifyImage { reference = try await self.reference(of: image) }
        let id = UUID().uuidString.lowercased()
        let created = WallClock.millis(now)
        let tokenExpires = created + Int64(request.tokenSeconds) * 1000
        let expires = created + Int64(settings.sessionLifetime * 1000)
        let referenceText = try reference.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await store.withConnection { db in
            try await db.raw("""
                INSERT INTO liveness_sessions (id, account_id, kind, options, device_id, token_seconds, send_results, verify_threshold,
                    verify_reference, attempts, challenge, status, created_at, started_at, token_expires_at, expires_at, deleted_at)
                VALUES (\(bind: id), \(bind: accountID), \(bind: request.kind.rawValue), \(bind: request.options), \(bind: request.deviceID),
                    \(bind: request.tokenSeconds), \(bind: request.sendResults ? 1 : 0), \(bind: request.verifyThreshold),
                    \(bind: referenceText), 0, NULL, \(bind: LivenessStatus.notStarted.rawValue), \(bind: created), NULL,
                    \(bind: tokenExpires), \(bind: expires), NULL)
                """).run()
        }
        let token = try tokens.sign(LivenessTokenClaims(sessionID: id, kind: request.kind, expiresMillis: tokenExpires))
        return (try await session(id, accountID: accountID, kind: request.kind), token)
    }

    /// A session of the account that was not deleted.
    public func session(_ id: String, accountID: String, kind: LivenessKind) async throws -> LivenessSession {
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM liveness_sessions
                WHERE id = \(bind: id) AND account_id = \(bind: accountID) AND kind = \(bind: kind.rawValue) AND deleted_at IS NULL
                """).first()
        }
        guard let row else { throw LivenessFailure.sessionNotFound(id) }
        return try Self.decode(row)
    }

    /// Sessions with ids after `start`, in id order, at most `top`.
    public func list(accountID: String, kind: LivenessKind, after start: String?, top: Int) async throws -> [LivenessSession] {
        let start = start ?? ""
        return try await store.withConnection { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM liveness_sessions
                WHERE account_id = \(bind: accountID) AND kind = \(bind: kind.rawValue) AND deleted_at IS NULL AND id > \(bind: start)
                ORDER BY id LIMIT \(bind: top)
                """).all()
        }.map(Self.decode)
    }

    /// Deletes a session: its token stops working at once. Its audit entries stay in the store
    /// (calls made with the revoked token are added to them) but are no longer served.
    public func delete(_ id: String, accountID: String, kind: LivenessKind) async throws {
        let now = WallClock.nowMillis()
        let removed = try await store.withTransaction { db in
            let rows = try await db.raw("""
                UPDATE liveness_sessions SET deleted_at = \(bind: now), challenge = NULL
                WHERE id = \(bind: id) AND account_id = \(bind: accountID) AND kind = \(bind: kind.rawValue) AND deleted_at IS NULL
                RETURNING id
                """).all()
            return rows.count
        }
        guard removed > 0 else { throw LivenessFailure.sessionNotFound(id) }
    }

    /// Audit entries with ids after `start`, in order, at most `top`.
    public func auditEntries(_ id: String, accountID: String, kind: LivenessKind, after start: Int?, top: Int) async throws
        -> [LivenessAuditEntry]
    {
        _ = try await session(id, accountID: accountID, kind: kind)
        let start = start ?? 0
        return try await store.withConnection { db in
            try await db.raw("""
                SELECT entry FROM liveness_audit WHERE session_id = \(bind: id) AND seq > \(bind: start) ORDER BY seq LIMIT \(bind: top)
                """).all()
        }.map { try JSONDecoder().decode(LivenessAuditEntry.self, from: Data(try $0.decode(column: "entry", as: String.self).utf8)) }
    }

    /// The latest entry with a decision: the session's result.
    public func result(of id: String) async throws -> LivenessAuditEntry? {
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT entry FROM liveness_audit WHERE session_id = \(bind: id) ORDER BY seq DESC").all()
        }
        for row in rows {
            let entry = try JSONDecoder().decode(LivenessAuditEntry.self, from: Data(try row.decode(column: "entry", as: String.self).utf8))
            if entry.outcome != nil { return entry }
        }
        return nil
    }

    // MARK: The client's calls

    /// Hands out the next attempt's challenge, chosen at random.
    public func challenge(token: String, kind: LivenessKind, call: LivenessCallFacts) async throws -> IssuedChallenge {
        let started = ContinuousClock.now
        let session = try await authorize(token: token, kind: kind, call: call, started: started)
        let attempt = session.attempts + 1
        guard attempt <= settings.maxAttempts else {
            let failure = LivenessFailure.attemptsExhausted(settings.maxAttempts)
            try await record(session.id, call: call, started: started, failure: failure)
            throw failure
        }
        let now = WallClock.nowMillis()
        let issued = IssuedChallenge(id: Identifiers.opaque(), challenge: settings.challenges.randomElement() ?? .turnLeft, attempt: attempt,
                                     attemptsLeft: settings.maxAttempts - attempt, issuedAtMillis: now,
                                     answerWithinSeconds: settings.answerWithinSeconds)
        let text = String(decoding: try JSONEncoder().encode(issued), as: UTF8.self)
        let maxAttempts = settings.maxAttempts
        // The attempt is counted in the same statement that checks the limit: two calls at once
        // cannot both take the last attempt.
        let taken = try await store.withConnection { db in
            try await db.raw("""
                UPDATE liveness_sessions SET attempts = attempts + 1, challenge = \(bind: text),
                    started_at = COALESCE(started_at, \(bind: now)),
                    status = CASE WHEN status = \(bind: LivenessStatus.notStarted.rawValue) THEN \(bind: LivenessStatus.started.rawValue)
                             ELSE status END
                WHERE id = \(bind: session.id) AND attempts = \(bind: session.attempts) AND attempts < \(bind: maxAttempts)
                    AND deleted_at IS NULL
                RETURNING id
                """).all()
        }
        guard !taken.isEmpty else {
            let failure = LivenessFailure.attemptsExhausted(settings.maxAttempts)
            try await record(session.id, call: call, started: started, failure: failure)
            throw failure
        }
        try await record(session.id, call: call, started: started, challenge: issued)
        return issued
    }

    /// Judges a burst answering the session's open challenge, verifies the live face against the
    /// reference, and records the outcome as the session's result.
    public func submit(token: String, kind: LivenessKind, burst: LivenessBurst, call: LivenessCallFacts) async throws
        -> (LivenessSession, LivenessAuditEntry)
    {
        let started = ContinuousClock.now
        let session = try await authorize(token: token, kind: kind, call: call, started: started)
        do {
            if let problem = burst.problem { throw LivenessFailure.invalidBurst(problem) }
            let issued = try await claimChallenge(burst.challengeID, of: session)
            guard settings.frames.contains(burst.frames.count) else {
                throw LivenessFailure.invalidBurst("\(burst.frames.count) frames: send \(settings.frames.lowerBound) to \(settings.frames.upperBound)")
            }
            if let large = burst.frames.firstIndex(where: { $0.count > settings.maxFrameBytes }) {
                throw LivenessFailure.invalidBurst("frame \(large) is larger than \(settings.maxFrameBytes) bytes")
            }
            var reference = session.verifyReference
            if kind == .livenessWithVerify, reference == nil {
                guard let image = burst.verifyImage else { throw LivenessFailure.verifyImageMissing }
                reference = try await self.reference(of: image)
            }
            let outcome = try await judge(burst.frames, challenge: issued, reference: reference, threshold: session.verifyThreshold)
            let entry = try await record(session.id, call: call, started: started, outcome: outcome)
            let now = WallClock.nowMillis()
            try await store.withConnection { db in
                try await db.raw("""
                    UPDATE liveness_sessions SET status = \(bind: LivenessStatus.resultAvailable.rawValue),
                        started_at = COALESCE(started_at, \(bind: now))
                    WHERE id = \(bind: session.id)
                    """).run()
            }
            return (session, entry)
        } catch let failure as LivenessFailure {
            try await record(session.id, call: call, started: started, failure: failure)
            throw failure
        }
    }

    // MARK: Pieces

    /// The session a token opens, or the reason it opens nothing (recorded against the session
    /// when the token names one).
    private func authorize(token: String, kind: LivenessKind, call: LivenessCallFacts, started: ContinuousClock.Instant) async throws
        -> LivenessSession
    {
        let claims = try tokens.verify(token)
        let row = try await store.withConnection { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns), deleted_at FROM liveness_sessions WHERE id = \(bind: claims.sessionID)")
                .first()
        }
        guard let row else { throw LivenessFailure.tokenInvalid }
        let session = try Self.decode(row)
        if try row.decode(column: "deleted_at", as: Int64?.self) != nil {
            try await record(session.id, call: call, started: started, failure: .sessionRevoked)
            throw LivenessFailure.sessionRevoked
        }
        let now = Date()
        var failure: LivenessFailure?
        if claims.kind != kind || session.kind != kind {
            failure = .wrongOperation
        } else if session.expired(at: now) {
            failure = .sessionExpired
        } else if WallClock.millis(now) >= claims.expiresMillis {
            failure = .tokenExpired
        }
        if let failure {
            try await record(session.id, call: call, started: started, failure: failure)
            throw failure
        }
        return session
    }

    /// Takes the open challenge the burst answers; each challenge is answered once.
    private func claimChallenge(_ id: String, of session: LivenessSession) async throws -> IssuedChallenge {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT challenge FROM liveness_sessions WHERE id = \(bind: session.id)").first()
        }
        guard let text = try row?.decode(column: "challenge", as: String?.self) ?? nil,
              let open = try? JSONDecoder().decode(IssuedChallenge.self, from: Data(text.utf8))
        else { throw id.isEmpty ? LivenessFailure.noOpenChallenge : LivenessFailure.challengeMismatch }
        guard open.id == id else { throw LivenessFailure.challengeMismatch }
        let claimed = try await store.withConnection { db in
            try await db.raw("""
                UPDATE liveness_sessions SET challenge = NULL WHERE id = \(bind: session.id) AND challenge = \(bind: text) RETURNING id
                """).all()
        }
        guard !claimed.isEmpty else { throw LivenessFailure.challengeMismatch }
        guard WallClock.nowMillis() - open.issuedAtMillis <= Int64(open.answerWithinSeconds) * 1000 else {
            throw LivenessFailure.challengeExpired
        }
        return open
    }

    /// Analyses the frames (identity on the first and the last: the head is turned furthest in
    /// between, where embeddings of one person drift apart), judges them, and compares the best
    /// embedded frame's face with the reference.
    private func judge(_ frames: [[UInt8]], challenge: IssuedChallenge, reference: VerifyReference?, threshold: Double?) async throws
        -> LivenessOutcome
    {
        let faces = try await engine.get()
        let embedded: Set<Int> = [0, frames.count - 1]
        var observations: [LivenessObservation] = []
        for (index, frame) in frames.enumerated() {
            do {
                observations.append(try await faces.observe(frame, embed: embedded.contains(index)))
            } catch let error as ImageError {
                throw LivenessFailure.invalidBurst("frame \(index): \(error)")
            }
        }
        let verdict = LivenessAnalysis.judge(observations, challenge: challenge.challenge, rules: settings.rules)
        let best = verdict.bestFrame.map { observations[$0] }
        var verify: VerifyOutcome?
        if let reference, verdict.decision == .live, let face = best?.embedding {
            let score = PairComparison.similarity(reference.embedding, face, faces: [1, 1])
            verify = VerifyOutcome(reference: reference, similarity: score.similarity, identical: score.similarity >= (threshold ?? 0.5))
        }
        return LivenessOutcome(verdict: verdict, challenge: challenge, target: best?.box, targetFrame: verdict.bestFrame,
                               frameCount: frames.count, verify: verify)
    }

    /// The one face of a reference image; refused without a face or with several.
    private func reference(of image: [UInt8]) async throws -> VerifyReference {
        let analysis: ImageAnalysis
        do {
            analysis = try await engine.get().analyze(image)
        } catch let error as ImageError {
            throw LivenessFailure.invalidVerifyImage("\(error)")
        }
        guard let face = analysis.faces.first else { throw LivenessFailure.invalidVerifyImage("no face was found in the image") }
        guard analysis.faces.count == 1 else {
            throw LivenessFailure.invalidVerifyImage("\(analysis.faces.count) faces were found; the image must show one")
        }
        return VerifyReference(box: face.detection.box, quality: face.attributes.faceQuality, embedding: face.embedding,
                               imageHash: Array(SHA256.hash(data: Data(image))).hexString)
    }

    @discardableResult
    private func record(_ sessionID: String, call: LivenessCallFacts, started: ContinuousClock.Instant, challenge: IssuedChallenge? = nil,
                        outcome: LivenessOutcome? = nil, failure: LivenessFailure? = nil) async throws -> LivenessAuditEntry {
        let elapsed = ContinuousClock.now - started
        let latency = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let received = WallClock.nowMillis() - Int64(latency)
        return try await store.withTransaction { db in
            let next = try await db.raw("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM liveness_audit WHERE session_id = \(bind: sessionID)")
                .first()?.decode(column: "n", as: Int.self) ?? 1
            let entry = LivenessAuditEntry(id: next, sessionID: sessionID, receivedMillis: received, latencyMillis: latency, call: call,
                                           challenge: challenge, outcome: outcome, failure: failure)
            let text = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
            try await db.raw("""
                INSERT INTO liveness_audit (session_id, seq, entry, created_at)
                VALUES (\(bind: sessionID), \(bind: next), \(bind: text), \(bind: WallClock.nowMillis()))
                """).run()
            return entry
        }
    }

    static let columns = """
        id, account_id, kind, options, device_id, token_seconds, send_results, verify_threshold, verify_reference, attempts, status,
        created_at, started_at, token_expires_at, expires_at
        """

    static func decode(_ row: any SQLRow) throws -> LivenessSession {
        let reference = try row.decode(column: "verify_reference", as: String?.self)
            .map { try JSONDecoder().decode(VerifyReference.self, from: Data($0.utf8)) }
        return LivenessSession(
            id: try row.decode(column: "id", as: String.self),
            accountID: try row.decode(column: "account_id", as: String.self),
            kind: LivenessKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .liveness,
            options: try row.decode(column: "options", as: String.self),
            deviceID: try row.decode(column: "device_id", as: String?.self),
            tokenSeconds: try row.decode(column: "token_seconds", as: Int.self),
            sendResults: try row.decode(column: "send_results", as: Int.self) != 0,
            verifyThreshold: try row.decode(column: "verify_threshold", as: Double?.self),
            verifyReference: reference,
            attempts: try row.decode(column: "attempts", as: Int.self),
            status: LivenessStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .notStarted,
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
            started: try row.decode(column: "started_at", as: Int64?.self).map(WallClock.date(millis:)),
            tokenExpires: WallClock.date(millis: try row.decode(column: "token_expires_at", as: Int64.self)),
            expires: WallClock.date(millis: try row.decode(column: "expires_at", as: Int64.self)))
    }
}
