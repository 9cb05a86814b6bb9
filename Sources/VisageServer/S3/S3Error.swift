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
    /// does not compile until it has an S3 name; errors that already carry a code pass through
    /// (OSS's shared helpers name theirs as S3 does).
    static func wire(_ error: any Error) -> WireError {
        guard let core = error as? VisageError else { return WireError(error) }
        switch core {
        case let .notFound(kind, _):
            switch kind {
            case .bucket: return WireError(status: .notFound, code: "NoSuchBucket", message: "The specified bucket does not exist.")
            case .upload:
                return WireError(status: .notFound, code: "NoSuchUpload",
                                 message: "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
            case .object: return WireError(status: .notFound, code: "NoSuchKey", message: "The specified key does not exist.")
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .project, .dataset, .binding, .file,
                 .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case let .conflict(kind, _, _):
            switch kind {
            case .bucket:
                return WireError(status: .conflict, code: "BucketAlreadyExists",
                                 message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system.")
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .object, .upload, .project, .dataset,
                 .binding, .file, .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case let .inUse(kind, _, _, _):
            switch kind {
            case .bucket: return WireError(status: .conflict, code: "BucketNotEmpty", message: "The bucket you tried to delete is not empty.")
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .object, .upload, .project, .dataset,
                 .binding, .file, .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case let .objectRejected(reason, message):
            switch reason {
            case .invalidBucketName:
                return WireError(status: .badRequest, code: "InvalidBucketName", message: "The specified bucket is not valid: \(message).")
            case .invalidObjectKey:
                return WireError(status: .badRequest, code: "KeyTooLongError", message: "The specified key is not valid: \(message).")
            case .invalidPart:
                return WireError(status: .badRequest, code: "InvalidPart",
                                 message: "One or more of the specified parts could not be found or its entity tag did not match: \(message).")
            case .invalidPartOrder:
                return WireError(status: .badRequest, code: "InvalidPartOrder",
                                 message: "The list of parts was not in ascending order: \(message).")
            case .partTooSmall:
                return WireError(status: .badRequest, code: "EntityTooSmall",
                                 message: "Your proposed upload is smaller than the minimum allowed object size: \(message).")
            case .digestMismatch:
                return WireError(status: .badRequest, code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.")
            case .invalidTags:
                return WireError(status: .badRequest, code: "InvalidTag", message: "The tags you provided are not valid: \(message).")
            }
        case let .invalidArgument(field, message), let .malformedPolicy(field, message):
            return invalidArgument("\(field): \(message)")
        case .tooLarge:
            return WireError(status: .badRequest, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed object size.")
        case .preconditionFailed:
            return WireError(status: .preconditionFailed, code: "PreconditionFailed",
                             message: "At least one of the preconditions you specified did not hold.")
        case .rangeNotSatisfiable:
            return WireError(status: .rangeNotSatisfiable, code: "InvalidRange", message: "The requested range is not satisfiable.")
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
