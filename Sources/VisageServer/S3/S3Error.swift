import Foundation
import HTTPTypes
import VisageCore

/// S3's error codes, as boto3 and the AWS CLI read them.
enum S3Error {
    static func accessDenied(_ message: String) -> WireError {
        WireError(status: .forbidden, code: "AccessDenied", message: message)
    }

    static func authorizationMalformed(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "AuthorizationHeaderMalformed", message: message)
    }

    static func authorizationQueryMalformed(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "AuthorizationQueryParametersError", message: message)
    }

    /// A sub-resource, parameter or method S3 has and Visage does not implement.
    static func notImplemented(_ parameter: String) -> WireError {
        WireError(status: .notImplemented, code: "NotImplemented",
                  message: "The \(parameter) feature of the S3 API is not implemented by this server; nothing was changed.")
    }

    static let methodNotAllowed = WireError(status: .methodNotAllowed, code: "MethodNotAllowed",
                                            message: "The specified method is not allowed against this resource.")

    static func invalidArgument(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidArgument", message: message)
    }

    static let malformedXML = WireError(status: .badRequest, code: "MalformedXML",
                                        message: "The XML you provided was not well-formed or did not validate against our published schema.")

    /// The S3 name of a failure. Core failures are mapped case by case, so a new kind or reason
    /// does not compile until it has an S3 name; where S3 and OSS name a failure alike (OSS took
    /// its codes from S3), OSS's mapping answers. Errors that already carry a code pass through.
    static func wire(_ error: any Error) -> WireError {
        guard let core = error as? VisageError else { return WireError(error) }
        switch core {
        case let .notFound(kind, _):
            switch kind {
            case .bucket, .object, .upload: return OSSError.wire(core)
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .project, .dataset, .binding, .file,
                 .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case let .conflict(kind, _, _), let .inUse(kind, _, _, _):
            switch kind {
            case .bucket: return OSSError.wire(core)
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .object, .upload, .project, .dataset,
                 .binding, .file, .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case let .objectRejected(reason, message):
            switch reason {
            case .invalidBucketName, .invalidPart, .invalidPartOrder, .partTooSmall, .invalidTags:
                return OSSError.wire(core)
            case .invalidObjectKey:
                return WireError(status: .badRequest, code: "KeyTooLongError", message: "The specified key is not valid: \(message).")
            case .digestMismatch:
                return WireError(status: .badRequest, code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.")
            }
        case .invalidArgument, .malformedPolicy, .tooLarge, .preconditionFailed, .rangeNotSatisfiable:
            return OSSError.wire(core)
        case .unavailable:
            return WireError(status: .serviceUnavailable, code: "ServiceUnavailable",
                             message: "Please reduce your request rate or retry: \(core.description)")
        case .limitExceeded, .forbidden, .internalFailure:
            return WireError(core)
        }
    }

    static func authentication(_ problem: AuthenticationProblem) -> WireError {
        switch problem {
        case .timeSkewed, .signatureMismatch, .nonceReused:
            // Named as OSS names them (OSS took these codes from S3).
            return OSSError.authentication(problem)
        case let .credentials(failure):
            switch failure {
            case .unknownAccessKey, .inactiveAccessKey:
                return WireError(status: .forbidden, code: "InvalidAccessKeyId",
                                 message: "The AWS Access Key Id you provided does not exist in our records.")
            case .tokenExpired, .tokenRevoked:
                return WireError(status: .badRequest, code: "ExpiredToken", message: "The provided token has expired.")
            case .tokenMissing, .tokenMalformed, .tokenMismatch:
                return WireError(status: .forbidden, code: "InvalidToken", message: "The provided token is malformed or otherwise invalid.")
            }
        }
    }
}
