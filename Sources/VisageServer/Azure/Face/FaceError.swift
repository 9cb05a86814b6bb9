import HTTPTypes
import VisageAccess
import VisageMedia

/// The Face API's error codes, and how the core's liveness failures are named in them.
enum FaceError {
    static func badArgument(_ message: String) -> WireError { WireError(status: .badRequest, code: "BadArgument", message: message) }
    static func invalidImage(_ message: String) -> WireError { WireError(status: .badRequest, code: "InvalidImage", message: message) }
    static func unsupportedMediaType(_ type: String) -> WireError {
        WireError(status: .unsupportedMediaType, code: "BadArgument",
                  message: "The content type '\(type)' is not accepted: send application/json or multipart/form-data.")
    }
    static let notFound = WireError(status: .notFound, code: "NotFound", message: "Resource not found.")
    static let missingKey = WireError(status: .unauthorized, code: "401",
                                      message: "Access denied: the request has no Ocp-Apim-Subscription-Key header.")
    static let badKey = WireError(status: .unauthorized, code: "401",
                                  message: "Access denied: the subscription key is not valid for this server, or it was disabled.")
    static let missingToken = WireError(status: .unauthorized, code: "Unauthorized",
                                        message: "The client call needs the session's token as 'Authorization: Bearer <authToken>'.")

    /// A core failure in the Face API's codes; the switch is exhaustive so no failure is missed.
    static func wire(_ failure: LivenessFailure) -> WireError {
        switch failure {
        case let .sessionNotFound(id):
            WireError(status: .notFound, code: "SessionNotFound", message: "Session \(id) was not found.")
        case .tokenInvalid:
            WireError(status: .unauthorized, code: "InvalidToken", message: "The session token is not valid.")
        case .tokenExpired:
            WireError(status: .unauthorized, code: "TokenExpired", message: "The session token has expired.")
        case .sessionRevoked:
            WireError(status: .unauthorized, code: "SessionRevoked", message: "The session was deleted; its token was revoked.")
        case .sessionExpired:
            WireError(status: .unauthorized, code: "SessionExpired", message: "The session has expired (48 hours after it was created).")
        case .wrongOperation:
            WireError(status: .forbidden, code: "Forbidden", message: "The session token is not valid for this operation.")
        case let .attemptsExhausted(limit):
            WireError(status: .forbidden, code: "AttemptsExhausted", message: "The session's token allows \(limit) attempts; all were used.")
        case .noOpenChallenge:
            WireError(status: .badRequest, code: "ChallengeRequired", message: "Ask for a challenge before sending frames.")
        case .challengeMismatch:
            WireError(status: .forbidden, code: "ChallengeMismatch",
                      message: "The frames answer a challenge this session did not hand out, or one already answered.")
        case .challengeExpired:
            WireError(status: .badRequest, code: "ChallengeExpired", message: "The challenge was answered too late; ask for a new one.")
        case let .invalidBurst(detail):
            badArgument("The frames are not usable: \(detail).")
        case let .invalidVerifyImage(detail):
            invalidImage("The verify image is not usable: \(detail).")
        case .verifyImageMissing:
            badArgument("This session was created without a verify image: send one as the VerifyImage part.")
        case let .tooManySessions(device, perHour):
            WireError(status: .tooManyRequests, code: "TooManyRequests",
                      message: "Device \(device) was named in \(perHour) sessions in the last hour; try again later.")
        case .needsLandmarks68:
            WireError(status: .notImplemented, code: "NotImplemented",
                      message: "Liveness needs the 68-point landmark model; this server aligns faces on 5 points (VISAGE_LANDMARKS=5).")
        }
    }

    /// How an authentication failure of a subscription key is named.
    static func authentication(_ problem: AuthenticationProblem) -> WireError {
        switch problem {
        case .credentials, .signatureMismatch, .timeSkewed, .nonceReused: badKey
        }
    }
}
