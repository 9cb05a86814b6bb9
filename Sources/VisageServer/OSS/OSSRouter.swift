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
        case .notFound(kind: "upload", _):
            return WireError(status: .notFound, code: "NoSuchUpload", message: "The specified upload does not exist.")
        case .invalidArgument(field: "Part", let message):
            return WireError(status: .badRequest, code: "InvalidPart", message: "One or more of the specified parts could not be found: \(message).")
        case .invalidArgument(field: "PartOrder", let message):
            return WireError(status: .badRequest, code: "InvalidPartOrder", message: "The list of parts was not in ascending order: \(message).")
        case .invalidArgument(field: "EntityTooSmall", let message):
            return WireError(status: .badRequest, code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed size: \(message).")
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

/// The bucket's cross-origin rule that applies to a request carrying an `Origin` header.
struct CrossOrigin: Sendable {
    let origin: String?
    let rule: CORSRule?
    let requestedMethod: String?
    let requestedHeaders: [String]

    init(request: Request, bucket: String?, objects: any ObjectStore) async throws {
        origin = request.headers[HTTPField.Name("Origin")!]
        let preflight = request.method == .options
        requestedMethod = preflight ? request.headers[HTTPField.Name("Access-Control-Request-Method")!] : request.method.rawValue
        requestedHeaders = preflight
            ? (request.headers[HTTPField.Name("Access-Control-Request-Headers")!] ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            : []
        guard let origin, let method = requestedMethod, let bucket, let name = try? BucketName(bucket),
              let rules = try? await objects.corsRules(name)
        else {
            rule = nil
            return
        }
        rule = CORSRule.firstMatch(rules, origin: origin, method: method, headers: requestedHeaders)
    }

    /// The answer to an `OPTIONS` preflight: 200 with the rule's grants, or 403.
    func preflight(requestID: String) throws -> Response {
        guard let rule, let origin else {
            throw WireError(status: .forbidden, code: "AccessForbidden", message: "CORSResponse: This CORS request is not allowed.")
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
        headers[HTTPField.Name("Access-Control-Allow-Methods")!] = rule.allowedMethods.joined(separator: ", ")
        if !requestedHeaders.isEmpty { headers[HTTPField.Name("Access-Control-Allow-Headers")!] = requestedHeaders.joined(separator: ", ") }
        if !rule.exposeHeaders.isEmpty { headers[HTTPField.Name("Access-Control-Expose-Headers")!] = rule.exposeHeaders.joined(separator: ", ") }
        if let age = rule.maxAgeSeconds { headers[HTTPField.Name("Access-Control-Max-Age")!] = String(age) }
        headers[HTTPField.Name("x-oss-request-id")!] = requestID
        headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        return Response(status: .ok, headers: headers)
    }

    /// Adds the allow-origin and expose headers to an actual cross-origin response.
    func decorate(_ response: inout Response) {
        guard let rule, let origin else { return }
        response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
        response.headers[HTTPField.Name("Access-Control-Allow-Methods")!] = rule.allowedMethods.joined(separator: ", ")
        if !rule.exposeHeaders.isEmpty {
            response.headers[HTTPField.Name("Access-Control-Expose-Headers")!] = rule.exposeHeaders.joined(separator: ", ")
        }
        response.headers[.vary] = "Origin"
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
        let context = AccessRequest.standardContext(now: Date(), sourceIP: sourceIP).merging(extra) { _, new in new }
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
        let cors = try await CrossOrigin(request: request, bucket: bucket, objects: operations.objects)
        if request.method == .options { return try cors.preflight(requestID: context.requestID) }
        var response: Response
        do {
            response = try await dispatch(request, context: context, bucket: bucket, rawKey: rawKey)
        } catch {
            // Cross-origin callers must be able to read errors too, so they get the headers as well.
            guard cors.rule != nil else { throw OSSError.wire(error) }
            response = ErrorEnvelope.oss.response(WireError(OSSError.wire(error)), requestID: context.requestID,
                                                  host: request.head.authority ?? "localhost")
        }
        cors.decorate(&response)
        return response
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
            case .put where call.has("cors"): return try await operations.putBucketCORS(call)
            case .get where call.has("cors"): return try await operations.getBucketCORS(call)
            case .delete where call.has("cors"): return try await operations.deleteBucketCORS(call)
            case .put: return try await operations.putBucket(call)
            case .delete: return try await operations.deleteBucket(call)
            case .get where call.has("bucketInfo"): return try await operations.getBucketInfo(call)
            case .get: return try await operations.listObjects(call)
            case .post where call.has("delete"): return try await operations.deleteMultipleObjects(call)
            default: throw methodNotAllowed()
            }
        }
        switch request.method {
        case .post where call.has("uploads"): return try await operations.initiateMultipartUpload(call)
        case .put where call.has("uploadId") && call.has("partNumber"): return try await operations.uploadPart(call)
        case .get where call.has("uploadId"): return try await operations.listParts(call)
        case .post where call.has("uploadId"): return try await operations.completeMultipartUpload(call)
        case .delete where call.has("uploadId"): return try await operations.abortMultipartUpload(call)
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
