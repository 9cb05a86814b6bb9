import Foundation
import HTTPTypes
import VisageAccess
import VisageCore
import VisageVision

/// Rekognition's error codes, as botocore reads them from `__type`. Client errors are 400 (the
/// AWS JSON convention; botocore keys on the code, not the status).
enum RekognitionError {
    static func invalidParameter(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidParameterException", message: message)
    }

    static func invalidS3Object(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidS3ObjectException", message: message)
    }

    static func imageTooLarge(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "ImageTooLargeException", message: message)
    }

    static let invalidImageFormat = WireError(status: .badRequest, code: "InvalidImageFormatException",
                                              message: "Request has invalid image format: JPEG and PNG images are accepted.")

    static func accessDenied(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "AccessDeniedException", message: message)
    }

    static func unknownOperation(_ target: String) -> WireError {
        WireError(status: .badRequest, code: "UnknownOperationException",
                  message: "\(target) is not an operation this server offers: it offers RekognitionService.DetectModerationLabels.")
    }

    /// The name of a failure; moderation refusals are mapped case by case, so a new refusal
    /// does not compile until it has a Rekognition name.
    static func wire(_ error: any Error) -> WireError {
        switch error {
        case let wire as WireError:
            if wire.code == "EntityTooLarge" {
                return imageTooLarge("The request is larger than this server accepts; Image.Bytes may hold at most 5242880 bytes.")
            }
            return wire
        case let refusal as ModerationRefusal:
            switch refusal {
            case .unsupportedFormat, .corrupt: return invalidImageFormat
            case let .tooLarge(bytes, limit): return imageTooLarge("The image is \(bytes) bytes; the limit is \(limit).")
            case let .tooManyPixels(width, height, _):
                return imageTooLarge("Input image dimensions \(width)x\(height) exceed the maximum dimension size of \(DetectModerationLabels.maxSide) pixels.")
            case let .tooSmall(width, height, minimum):
                return invalidParameter("Input image dimensions \(width)x\(height) are below the minimum of \(minimum) pixels.")
            }
        case is DecodingError:
            return invalidParameter("The request body does not match the operation's input shape.")
        default:
            let generic = WireError(error)
            if generic.status.code >= 500 {
                return WireError(status: .internalServerError, code: "InternalServerError", message: generic.message)
            }
            return invalidParameter(generic.message)
        }
    }

    /// Signature and credential failures, named as the AWS JSON front end names them.
    static func authentication(_ problem: AuthenticationProblem) -> WireError {
        switch problem {
        case .signatureMismatch:
            return WireError(status: .badRequest, code: "InvalidSignatureException",
                             message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        case .timeSkewed:
            return WireError(status: .badRequest, code: "InvalidSignatureException",
                             message: "Signature expired: the signing time is more than 15 minutes from the server's time.")
        case .nonceReused:
            return WireError(status: .badRequest, code: "InvalidSignatureException", message: "The request was already seen.")
        case let .credentials(failure):
            switch failure {
            case .unknownAccessKey, .inactiveAccessKey, .tokenMissing, .tokenMalformed, .tokenMismatch:
                return WireError(status: .badRequest, code: "UnrecognizedClientException",
                                 message: "The security token included in the request is invalid.")
            case .tokenExpired, .tokenRevoked:
                return WireError(status: .badRequest, code: "ExpiredTokenException", message: "The security token included in the request is expired.")
            }
        }
    }

    /// A signature that cannot be checked at all.
    static func signature(_ problem: AWSJSONSignature.Problem) -> WireError {
        switch problem {
        case .missing:
            return WireError(status: .badRequest, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token")
        case let .malformed(message):
            return WireError(status: .badRequest, code: "IncompleteSignatureException", message: message)
        case let .wrongService(service):
            return WireError(status: .badRequest, code: "InvalidSignatureException",
                             message: "Credential should be scoped to correct service: '\(service)'.")
        }
    }
}
