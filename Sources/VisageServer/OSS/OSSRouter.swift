import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore
import VisageStore

/// OSS's error codes, as the `oss2` and `alibabacloud-oss-v2` SDKs map them.
enum OSSError {
    static func accessDenied(_ message: String) -> WireError {
        WireError(status: .forbidden, code: "AccessDenied", message: message)
    }

    /// The OSS name of a core failure.
    static func wire(_ error: any Error) -> any Error {
        guard let core = error as? VisageError else { return error }
        switch core {
        case .notFound(kind: "bucket", _):
            return WireError(status: .notFound, code: "NoSuchBucket", message: "The specified bucket does not exist.")
        case .notFound(kind: "object", _):
            return WireError(status: .notFound, code: "NoSuchKey", message: "The specified key does not exist.")
        case .conflict(kind: "bucket", _, _):
            return WireError(status: .conflict, code: "BucketAlreadyExists", message: "The requested bucket name is not available.")
        case .inUse(kind: "bucket", _, _):
            return WireError(status: .conflict, code: "BucketNotEmpty", message: "The bucket you tried to delete is not empty.")
        case .invalidArgument(field: "BucketName", let message):
            return WireError(status: .badRequest, code: "InvalidBucketName", message: "The specified bucket is not valid: \(message).")
        case .invalidArgument(field: "ObjectKey", let message):
            return WireError(status: .badRequest, code: "InvalidObjectName", message: "The specified object is not valid: \(message).")
        case .invalidArgument(field: "Content-MD5", _):
            return WireError(status: .badRequest, code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.")
        case let .invalidArgument(field, message):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "\(field): \(message)")
        case .tooLarge:
            return WireError(status: .badRequest, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size.")
        case .preconditionFailed:
            return WireError(status: .preconditionFailed, code: "PreconditionFailed", message: "At least one of the preconditions you specified did not hold.")
        case .rangeNotSatisfiable:
            return WireError(status: .rangeNotSatisfiable, code: "InvalidRange", message: "The requested range cannot be satisfied.")
        default:
            return WireError(core)
        }
    }

    static func authentication(_ problem: AuthenticationProblem) -> any Error {
        switch problem {
        case .timeSkewed:
            return WireError(status: .forbidden, code: "RequestTimeTooSkewed",
                             message: "The difference between the request time and the current time is too large.")
        case .signatureMismatch:
            return WireError(status: .forbidden, code: "SignatureDoesNotMatch",
                             message: "The request signature we calculated does not match the signature you provided.")
        case .nonceReused:
            return accessDenied("The request was already used.")
        case let .credentials(failure):
            switch failure {
            case .unknownAccessKey, .inactiveAccessKey:
                return WireError(status: .forbidden, code: "InvalidAccessKeyId", message: "The OSS Access Key Id you provided does not exist in our records.")
            case .tokenExpired, .tokenRevoked:
                return WireError(status: .forbidden, code: "SecurityTokenExpired", message: "The security token you provided has expired.")
            case .tokenMissing, .tokenMalformed, .tokenMismatch:
                return WireError(status: .forbidden, code: "InvalidSecurityToken", message: "The security token you provided is invalid.")
            }
        }
    }
}

/// One authenticated object API request, with its decoded names.
struct OSSCall: Sendable {
    let request: Request
    let bucket: String?
    let key: String?
    let query: [String: String]
    let caller: Caller
    let sourceIP: String?
    let requestID: String

    func has(_ subresource: String) -> Bool { query[subresource] != nil }

    var bucketName: BucketName {
        get throws { try BucketName(bucket ?? "") }
    }

    var objectKey: ObjectKey {
        get throws { try ObjectKey(key ?? "") }
    }

    /// Refuses the request unless the caller's policies allow `action` on the bucket (or an
    /// object of it). Buckets belong to one account; other accounts are never let in.
    func authorize(_ action: String, bucket: BucketInfo?, bucketName: String, key: String? = nil,
                   context extra: [String: String] = [:]) throws {
        if let bucket, bucket.ownerAccount != caller.accountID {
            throw OSSError.accessDenied("The bucket \(bucketName) belongs to another account.")
        }
        var resource = "acs:oss:*:\(caller.accountID):\(bucketName)"
        if let key { resource += "/\(key)" }
        var context = extra
        context["acs:CurrentTime"] = ISO8601DateFormatter().string(from: Date())
        context["acs:SecureTransport"] = "false"
        if let sourceIP { context["acs:SourceIp"] = sourceIP }
        guard caller.decide(AccessRequest(action: action, resource: resource, context: context)) == .allow else {
            throw OSSError.accessDenied("You have no right to access this object because of bucket acl or RAM policy (\(action) on \(resource)).")
        }
    }
}

/// The path-style OSS object API: authenticates, decodes bucket and key, and dispatches by
/// method and sub-resource to `OSSOperations`.
struct OSSRouter: Sendable {
    let operations: OSSOperations
    let access: AccessServices

    func respond(to request: Request, context: VisageContext, bucket: String?, rawKey: String?) async throws -> Response {
        do {
            return try await dispatch(request, context: context, bucket: bucket, rawKey: rawKey)
        } catch {
            throw OSSError.wire(error)
        }
    }

    private func dispatch(_ request: Request, context: VisageContext, bucket: String?, rawKey: String?) async throws -> Response {
        // Keys arrive percent-encoded (oss2 even encodes `/`); `+` in a path is a plus.
        var key: String?
        if let rawKey {
            guard let decoded = rawKey.removingPercentEncoding else {
                throw WireError(status: .badRequest, code: "InvalidObjectName", message: "The object key is not valid percent-encoding.")
            }
            key = decoded
        }
        let pairs = FormEncoding.decode(request.uri.query ?? "")
        let input = OSSSignature.Input(method: request.method, bucket: bucket, key: key, query: pairs, headers: request.headers)
        guard let signature = try OSSSignature.read(input) else {
            throw OSSError.accessDenied("Anonymous access is not allowed: sign the request.")
        }
        if let expires = signature.expires, expires < access.now() {
            throw OSSError.accessDenied("Request has expired.")
        }
        let caller = try await access.authenticate(
            accessKeyID: signature.accessKeyID, securityToken: signature.securityToken, signedAt: signature.signedAt, nonce: nil,
            matches: signature.matches, failure: OSSError.authentication)
        let call = OSSCall(request: request, bucket: bucket, key: key, query: Dictionary(pairs, uniquingKeysWith: { a, _ in a }),
                           caller: caller, sourceIP: context.remoteAddress, requestID: context.requestID)
        context.coreContext.endpointPath.value = "oss:\(request.method.rawValue) \(bucket == nil ? "/" : key == nil ? "/bucket/" : "/bucket/key")"
        guard bucket != nil else {
            guard request.method == .get else { throw methodNotAllowed() }
            return try await operations.listBuckets(call)
        }
        if key == nil {
            switch request.method {
            case .put: return try await operations.putBucket(call)
            case .delete: return try await operations.deleteBucket(call)
            case .get where call.has("bucketInfo"): return try await operations.getBucketInfo(call)
            case .get: return try await operations.listObjects(call)
            case .post where call.has("delete"): return try await operations.deleteMultipleObjects(call)
            default: throw methodNotAllowed()
            }
        }
        switch request.method {
        case .put where request.headers[HTTPField.Name("x-oss-copy-source")!] != nil: return try await operations.copyObject(call)
        case .put: return try await operations.putObject(call)
        case .get: return try await operations.getObject(call, head: false)
        case .head: return try await operations.getObject(call, head: true)
        case .delete: return try await operations.deleteObject(call)
        default: throw methodNotAllowed()
        }
    }

    func methodNotAllowed() -> WireError {
        WireError(status: .methodNotAllowed, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.")
    }
}
