import Foundation
import VisageVision

/// Which check a session runs: liveness alone, or liveness and then verification of the live
/// face against a reference image.
public enum LivenessKind: String, Codable, Sendable, CaseIterable {
    case liveness
    case livenessWithVerify
}

/// Where a session stands: created, a client has begun, a decision has been recorded.
public enum LivenessStatus: String, Codable, Sendable {
    case notStarted, started, resultAvailable
}

/// The reference face a verifying session compares the live face with.
public struct VerifyReference: Codable, Sendable, Equatable {
    public let box: FaceBox
    /// The face quality in [0, 1] (FaceMeasures.faceQuality).
    public let quality: Double
    public let embedding: [Float]
    /// SHA-256 of the reference image, lower-case hex.
    public let imageHash: String
}

/// What the application server asks for when it opens a session.
public struct LivenessSessionRequest: Sendable {
    public var kind: LivenessKind
    /// What the dialect echoes back (opaque here).
    public var options: String
    public var deviceID: String?
    public var tokenSeconds: Int
    /// Whether the client's own call is answered with the result (else with nothing).
    public var sendResults: Bool
    /// Similarity from which the live face is the reference's person; nil: the calibrated 0.5.
    public var verifyThreshold: Double?
    public var verifyImage: [UInt8]?

    public init(kind: LivenessKind, options: String, deviceID: String?, tokenSeconds: Int, sendResults: Bool,
                verifyThreshold: Double?, verifyImage: [UInt8]?) {
        self.kind = kind
        self.options = options
        self.deviceID = deviceID
        self.tokenSeconds = tokenSeconds
        self.sendResults = sendResults
        self.verifyThreshold = verifyThreshold
        self.verifyImage = verifyImage
    }
}

/// A session as stored.
public struct LivenessSession: Sendable {
    public let id: String
    public let accountID: String
    public let kind: LivenessKind
    public let options: String
    public let deviceID: String?
    public let tokenSeconds: Int
    public let sendResults: Bool
    public let verifyThreshold: Double?
    public let verifyReference: VerifyReference?
    public let attempts: Int
    public let status: LivenessStatus
    public let created: Date
    public let started: Date?
    public let tokenExpires: Date
    public let expires: Date

    public func expired(at now: Date) -> Bool { now >= expires }
}

/// A challenge handed to a client for one attempt.
public struct IssuedChallenge: Codable, Sendable, Equatable {
    public let id: String
    public let challenge: LivenessChallenge
    /// 1 for the first attempt.
    public let attempt: Int
    public let attemptsLeft: Int
    public let issuedAtMillis: Int64
    public let answerWithinSeconds: Int
}

/// The facts of a client call kept in the audit trail.
public struct LivenessCallFacts: Codable, Sendable {
    public var requestID: String
    public var clientRequestID: String
    public var url: String
    public var method: String
    public var contentLength: Int
    public var contentType: String
    public var userAgent: String
    /// SHA-256 of the request body, lower-case hex.
    public var digest: String

    public init(requestID: String, clientRequestID: String, url: String, method: String, contentLength: Int, contentType: String,
                userAgent: String, digest: String) {
        self.requestID = requestID
        self.clientRequestID = clientRequestID
        self.url = url
        self.method = method
        self.contentLength = contentLength
        self.contentType = contentType
        self.userAgent = userAgent
        self.digest = digest
    }
}

/// Verification of the live face against the reference.
public struct VerifyOutcome: Codable, Sendable, Equatable {
    public let reference: VerifyReference
    /// Calibrated similarity in [0, 1] (0.5 at the engine's same-person boundary).
    public let similarity: Double
    public let identical: Bool
}

/// What an accepted attempt produced.
public struct LivenessOutcome: Codable, Sendable, Equatable {
    public let verdict: LivenessVerdict
    public let challenge: IssuedChallenge
    /// The face used for the decision and for verification (the best frame's).
    public let target: FaceBox?
    public let targetFrame: Int?
    public let frameCount: Int
    public let verify: VerifyOutcome?
}

/// One audit entry: a client call, accepted or refused.
public struct LivenessAuditEntry: Codable, Sendable {
    /// 1, 2, … within the session.
    public let id: Int
    public let sessionID: String
    public let receivedMillis: Int64
    public let latencyMillis: Int
    public let call: LivenessCallFacts
    /// A challenge handed out, an attempt's outcome, or why the call was refused.
    public let challenge: IssuedChallenge?
    public let outcome: LivenessOutcome?
    public let failure: LivenessFailure?
}

/// Why a liveness request was refused; each dialect names these in its own codes.
public enum LivenessFailure: Error, Codable, Sendable, Equatable {
    case sessionNotFound(String)
    /// The token is not one this server signed, or was altered.
    case tokenInvalid
    case tokenExpired
    /// The session was deleted: its token opens nothing.
    case sessionRevoked
    /// More than 48 hours since the session was created.
    case sessionExpired
    /// The token is for the other kind of session.
    case wrongOperation
    case attemptsExhausted(Int)
    case noOpenChallenge
    /// The burst answers a challenge this session did not hand out (another session's).
    case challengeMismatch
    case challengeExpired
    case invalidBurst(String)
    case invalidVerifyImage(String)
    /// A verifying session created without a reference image needs one with the burst.
    case verifyImageMissing
    case tooManySessions(device: String, perHour: Int)
    /// Faces are aligned on 5 landmarks (`VISAGE_LANDMARKS=5`): liveness reads the 68.
    case needsLandmarks68
}
