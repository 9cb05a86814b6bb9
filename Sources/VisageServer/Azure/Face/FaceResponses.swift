import Foundation
import VisageMedia
import VisageVision

/// The Face API's response shapes, written from the core's sessions and audit entries.
enum FaceResponses {
    struct Rectangle: Codable {
        let top: Int, left: Int, width: Int, height: Int

        init(_ box: FaceBox) {
            top = Int(box.top.rounded())
            left = Int(box.left.rounded())
            width = Int(box.width.rounded())
            height = Int(box.height.rounded())
        }
    }

    struct VerifyImage: Codable {
        let faceRectangle: Rectangle
        let qualityForRecognition: String

        init(_ reference: VerifyReference) {
            faceRectangle = Rectangle(reference.box)
            qualityForRecognition = FaceResponses.quality(reference.quality)
        }
    }

    /// `qualityForRecognition` from the face quality (docs/face-attributes.md): 0.8 and above is
    /// good enough to found a person.
    static func quality(_ value: Double) -> String {
        value >= 0.8 ? "high" : value >= 0.5 ? "medium" : "low"
    }

    static func date(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func date(millis: Int64) -> String { date(Date(timeIntervalSince1970: Double(millis) / 1000)) }

    static func decision(_ decision: LivenessDecision) -> String {
        switch decision {
        case .live: "realface"
        case .spoof: "spoofface"
        case .uncertain: "uncertain"
        }
    }

    // MARK: Preview contract

    struct CreateResult: Codable {
        let sessionId: String
        let authToken: String
        let verifyImage: VerifyImage?
    }

    struct SessionItem: Codable {
        let id: String
        let createdDateTime: String
        let sessionStartDateTime: String?
        let sessionExpired: Bool
        let deviceCorrelationId: String?
        let authTokenTimeToLiveInSeconds: Int?
        let status: String?
        let result: AuditEntry?

        init(_ session: LivenessSession, now: Date, result: AuditEntry?, detailed: Bool) {
            id = session.id
            createdDateTime = FaceResponses.date(session.created)
            sessionStartDateTime = session.started.map(FaceResponses.date)
            sessionExpired = session.expired(at: now)
            deviceCorrelationId = session.deviceID
            authTokenTimeToLiveInSeconds = session.tokenSeconds
            status = detailed ? FaceResponses.previewStatus(session.status) : nil
            self.result = result
        }
    }

    static func previewStatus(_ status: LivenessStatus) -> String {
        switch status {
        case .notStarted: "NotStarted"
        case .started: "Started"
        case .resultAvailable: "ResultAvailable"
        }
    }

    struct Target: Codable {
        let faceRectangle: Rectangle
        let fileName: String
        let timeOffsetWithinFile: Int
        let imageType: String
    }

    struct VerifyResult: Codable {
        let verifyImage: VerifyImage
        let matchConfidence: Double
        let isIdentical: Bool
    }

    /// Visage's account of the decision: the challenge, the measures and the reasons.
    struct CheckDetails: Codable {
        let challenge: String
        let attempt: Int
        let reasons: [String]
        let movementDegrees: Double
        let homographyResidual: Double
        let shapeChange: Double
        let frameCount: Int
    }

    struct ErrorBody: Codable {
        let code: String
        let message: String
    }

    struct Challenge: Codable {
        let challengeId: String
        let challenge: String
        let instruction: String
        let attempt: Int
        let attemptsLeft: Int
        let answerWithinSeconds: Int

        init(_ issued: IssuedChallenge) {
            challengeId = issued.id
            challenge = issued.challenge.rawValue
            instruction = FaceResponses.instruction(issued.challenge)
            attempt = issued.attempt
            attemptsLeft = issued.attemptsLeft
            answerWithinSeconds = issued.answerWithinSeconds
        }
    }

    static func instruction(_ challenge: LivenessChallenge) -> String {
        switch challenge {
        case .turnLeft: "Turn your head to your left"
        case .turnRight: "Turn your head to your right"
        case .lookUp: "Tilt your head up"
        case .lookDown: "Tilt your head down"
        }
    }

    /// The response body of a client call (also kept in the audit entry).
    struct ResponseBody: Codable {
        var livenessDecision: String?
        var target: Target?
        var verifyResult: VerifyResult?
        var checkDetails: CheckDetails?
        var challenge: Challenge?
        var error: ErrorBody?
    }

    static func body(_ outcome: LivenessOutcome) -> ResponseBody {
        let verdict = outcome.verdict
        return ResponseBody(
            livenessDecision: decision(verdict.decision),
            target: outcome.target.map {
                Target(faceRectangle: Rectangle($0), fileName: "frame-\(outcome.targetFrame ?? 0)",
                       timeOffsetWithinFile: outcome.targetFrame ?? 0, imageType: "Color")
            },
            verifyResult: outcome.verify.map {
                VerifyResult(verifyImage: VerifyImage($0.reference), matchConfidence: ($0.similarity * 10000).rounded() / 10000,
                             isIdentical: $0.identical)
            },
            checkDetails: CheckDetails(challenge: verdict.challenge.rawValue, attempt: outcome.challenge.attempt, reasons: verdict.reasons,
                                       movementDegrees: (verdict.movement * 10).rounded() / 10,
                                       homographyResidual: (verdict.depthResidual * 10000).rounded() / 10000,
                                       shapeChange: (verdict.shapeChange * 10000).rounded() / 10000, frameCount: outcome.frameCount))
    }

    struct AuditRequest: Codable {
        let url: String
        let method: String
        let contentLength: Int
        let contentType: String
        let userAgent: String
    }

    struct AuditResponse: Codable {
        let body: ResponseBody
        let statusCode: Int
        let latencyInMilliseconds: Int
    }

    struct AuditEntry: Codable {
        let id: Int
        let sessionId: String
        let requestId: String
        let clientRequestId: String
        let receivedDateTime: String
        let request: AuditRequest
        let response: AuditResponse
        let digest: String
        let verifyImageHash: String?

        init(_ entry: LivenessAuditEntry, returnVerifyImageHash: Bool) {
            id = entry.id
            sessionId = entry.sessionID
            requestId = entry.call.requestID
            clientRequestId = entry.call.clientRequestID
            receivedDateTime = FaceResponses.date(millis: entry.receivedMillis)
            request = AuditRequest(url: entry.call.url, method: entry.call.method, contentLength: entry.call.contentLength,
                                   contentType: entry.call.contentType, userAgent: entry.call.userAgent)
            var body = ResponseBody()
            var status = 200
            if let outcome = entry.outcome {
                body = FaceResponses.body(outcome)
            } else if let challenge = entry.challenge {
                body.challenge = Challenge(challenge)
            } else if let failure = entry.failure {
                let wire = FaceError.wire(failure)
                body.error = ErrorBody(code: wire.code, message: wire.message)
                status = Int(wire.status.code)
            }
            response = AuditResponse(body: body, statusCode: status, latencyInMilliseconds: entry.latencyMillis)
            digest = entry.call.digest
            verifyImageHash = returnVerifyImageHash ? entry.outcome?.verify?.reference.imageHash : nil
        }
    }

    // MARK: GA contract (v1.2)

    struct GAAttempt: Codable {
        struct Targets: Codable { let color: GATarget }
        struct GATarget: Codable { let faceRectangle: Rectangle }
        struct GAVerify: Codable { let matchConfidence: Double; let isIdentical: Bool }
        struct Result: Codable {
            let livenessDecision: String
            let targets: Targets?
            let verifyResult: GAVerify?
            let digest: String
            let verifyImageHash: String?
        }

        let attemptId: Int
        let attemptStatus: String
        let result: Result?
        let error: ErrorBody?
    }

    struct GAResults: Codable {
        struct Reference: Codable {
            let referenceType: String
            let faceRectangle: Rectangle
            let qualityForRecognition: String
        }

        let attempts: [GAAttempt]
        let verifyReferences: [Reference]?
    }

    struct GASession: Codable {
        let sessionId: String
        let authToken: String
        let status: String
        let results: GAResults
    }

    static func gaSession(_ session: LivenessSession, token: String, entries: [LivenessAuditEntry], options: FaceSessionOptions?) -> GASession {
        let attempts = entries.reversed().compactMap { entry -> GAAttempt? in
            guard let outcome = entry.outcome else { return nil }
            let verify = outcome.verify.map { GAAttempt.GAVerify(matchConfidence: ($0.similarity * 10000).rounded() / 10000, isIdentical: $0.identical) }
            return GAAttempt(
                attemptId: outcome.challenge.attempt, attemptStatus: "Succeeded",
                result: GAAttempt.Result(livenessDecision: decision(outcome.verdict.decision),
                                         targets: outcome.target.map { GAAttempt.Targets(color: GAAttempt.GATarget(faceRectangle: Rectangle($0))) },
                                         verifyResult: verify, digest: entry.call.digest,
                                         verifyImageHash: options?.returnVerifyImageHash == true ? outcome.verify?.reference.imageHash : nil),
                error: nil)
        }
        let status = switch session.status {
        case .notStarted: "NotStarted"
        case .started: "Running"
        case .resultAvailable: "Succeeded"
        }
        let references: [GAResults.Reference]? = session.kind == .livenessWithVerify ? session.verifyReference.map {
            [GAResults.Reference(referenceType: "image", faceRectangle: Rectangle($0.box), qualityForRecognition: quality($0.quality))]
        } ?? [] : nil
        return GASession(sessionId: session.id, authToken: token, status: status,
                         results: GAResults(attempts: attempts, verifyReferences: references))
    }
}
