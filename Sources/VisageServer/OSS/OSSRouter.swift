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

    /// A sub-resource, parameter or method OSS has and Visage does not implement.
    static func notImplemented(_ parameter: String) -> WireError {
        WireError(status: .notImplemented, code: "NotImplemented",
                  message: "The \(parameter) feature of the OSS API is not implemented by this server; nothing was changed.")
    }

    /// The OSS name of a core failure.
    static func wire(_ error: any Error) -> WireError {
        guard let core = error as? VisageError else { return WireError(error) }
        switch core {
        case let .notFound(kind, _):
            switch kind {
            case .bucket: return WireError(status: .notFound, code: "NoSuchBucket", message: "The specified bucket does not exist.")
            case .upload: return WireError(status: .notFound, code: "NoSuchUpload", message: "The specified upload does not exist.")
            case .object: return WireError(status: .notFound, code: "NoSuchKey", message: "The specified key does not exist.")
            case .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy, .project, .dataset, .binding, .file,
                 .task, .figure, .figureCluster, .clusteringRun, .edit:
                return WireError(core)
            }
        case .conflict(kind: .bucket, _, _):
            return WireError(status: .conflict, code: "BucketAlreadyExists", message: "The requested bucket name is not available.")
        case .inUse(kind: .bucket, _, _, _):
            return WireError(status: .conflict, code: "BucketNotEmpty", message: "The bucket you tried to delete is not empty.")
        case let .objectRejected(reason, message):
            switch reason {
            case .invalidBucketName:
                return WireError(status: .badRequest, code: "InvalidBucketName", message: "The specified bucket is not valid: \(message).")
            case .invalidObjectKey:
                return WireError(status: .badRequest, code: "InvalidObjectName", message: "The specified object is not valid: \(message).")
            case .invalidPart:
                return WireError(status: .badRequest, code: "InvalidPart",
                                 message: "One or more of the specified parts could not be found: \(message).")
            case .invalidPartOrder:
                return WireError(status: .badRequest, code: "InvalidPartOrder", message: "The list of parts was not in ascending order: \(message).")
            case .partTooSmall:
                return WireError(status: .badRequest, code: "EntityTooSmall",
                                 message: "Your proposed upload is smaller than the minimum allowed size: \(message).")
            case .digestMismatch:
                return WireError(status: .badRequest, code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.")
            case .invalidTags:
                return WireError(status: .badRequest, code: "InvalidTag", message: "The tags you provided are not valid: \(message).")
            }
        case let .invalidArgument(field, message), let .malformedPolicy(field, message):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "\(field): \(message)")
        case .tooLarge:
            return WireError(status: .badRequest, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size.")
        case .preconditionFailed:
            return WireError(status: .preconditionFailed, code: "PreconditionFailed", message: "At least one of the preconditions you specified did not hold.")
        case .rangeNotSatisfiable:
            return WireError(status: .rangeNotSatisfiable, code: "InvalidRange", message: "The requested range cannot be satisfied.")
        case .unavailable:
            return WireError(status: .serviceUnavailable, code: "ServiceUnavailable",
                             message: "The service is temporarily unavailable; retry the request: \(core.description)")
        case .conflict, .inUse, .limitExceeded, .forbidden, .internalFailure:
            return WireError(core)
        }
    }

    static func authentication(_ problem: AuthenticationProblem) -> WireError {
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
    /// The bucket asks for `Vary: Origin` on every response, matched or not.
    let varyByOrigin: Bool

    init(request: Request, bucket: String?, objects: any ObjectStore) async throws {
        origin = request.headers[HTTPField.Name("Origin")!]
        let preflight = request.method == .options
        requestedMethod = preflight ? request.headers[HTTPField.Name("Access-Control-Request-Method")!] : request.method.rawValue
        requestedHeaders = preflight
            ? (request.headers[HTTPField.Name("Access-Control-Request-Headers")!] ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            : []
        guard let origin, let method = requestedMethod, let bucket, let name = try? BucketName(bucket),
              let configuration = try? await objects.corsConfiguration(name)
        else {
            rule = nil
            varyByOrigin = false
            return
        }
        varyByOrigin = configuration.responseVary
        rule = CORSRule.firstMatch(configuration.rules, origin: origin, method: method, headers: requestedHeaders)
    }

    /// The answer to an `OPTIONS` preflight: 200 with the rule's grants, or 403; the request id
    /// goes in the dialect's own header.
    func preflight(requestID: String, requestIDHeader: HTTPField.Name = .ossRequestID) throws -> Response {
        guard let rule, let origin else {
            throw WireError(status: .forbidden, code: "AccessForbidden", message: "CORSResponse: This CORS request is not allowed.")
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
        headers[HTTPField.Name("Access-Control-Allow-Methods")!] = rule.allowedMethods.joined(separator: ", ")
        if !requestedHeaders.isEmpty { headers[HTTPField.Name("Access-Control-Allow-Headers")!] = requestedHeaders.joined(separator: ", ") }
        if !rule.exposeHeaders.isEmpty { headers[HTTPField.Name("Access-Control-Expose-Headers")!] = rule.exposeHeaders.joined(separator: ", ") }
        if let age = rule.maxAgeSeconds { headers[HTTPField.Name("Access-Control-Max-Age")!] = String(age) }
        headers[requestIDHeader] = requestID
        headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        return Response(status: .ok, headers: headers)
    }

    /// Adds the allow-origin and expose headers to an actual cross-origin response.
    func decorate(_ response: inout Response) {
        if varyByOrigin { response.headers[.vary] = "Origin" }
        guard let rule, let origin else { return }
        response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
        response.headers[HTTPField.Name("Access-Control-Allow-Methods")!] = rule.allowedMethods.joined(separator: ", ")
        if !rule.exposeHeaders.isEmpty {
            response.headers[HTTPField.Name("Access-Control-Expose-Headers")!] = rule.exposeHeaders.joined(separator: ", ")
        }
        response.headers[.vary] = "Origin"
    }
}

extension ObjectCall {
    /// The key, with OSS's own rule on top of the store's.
    var objectKey: ObjectKey {
        get throws {
            // OSS refuses names that start with a backslash; the store itself takes any name.
            if key?.hasPrefix("\\") == true {
                throw WireError(status: .badRequest, code: "InvalidObjectName", message: "The object name must not start with a backslash.")
            }
            return try ObjectKey(key ?? "")
        }
    }
}

/// The path-style OSS object API: authenticates, decodes bucket and key, and dispatches by
/// method and sub-resource to `OSSOperations`.
struct OSSRouter: Sendable {
    let operations: OSSOperations
    let access: AccessServices

    func respond(to request: Request, context: VisageContext, bucket: String?, rawKey: String?,
                 dialect: OSSDialect) async throws -> Response {
        let cors = try await CrossOrigin(request: request, bucket: bucket, objects: operations.objects)
        if request.method == .options { return try cors.preflight(requestID: context.requestID) }
        var response: Response
        do {
            response = try await dispatch(request, context: context, bucket: bucket, rawKey: rawKey, dialect: dialect)
        } catch {
            // Rendered here rather than by the envelope middleware: cross-origin callers must be
            // able to read errors too, and a HEAD error carries its body in `x-oss-err`.
            response = dialect.render(dialect.wireError(error), for: request, requestID: context.requestID)
        }
        cors.decorate(&response)
        return response
    }

    private func dispatch(_ request: Request, context: VisageContext, bucket: String?, rawKey: String?,
                          dialect: OSSDialect) async throws -> Response {
        let (call, operation) = try await authenticated(request, bucket: bucket, rawKey: rawKey, sourceIP: context.remoteAddress,
                                                        requestID: context.requestID, dialect: dialect)
        context.coreContext.endpointPath.value = "oss:\(operation)"
        return try await operations.perform(operation, call)
    }

    /// The request's operation and who signed it, once the signature holds; an operation Visage
    /// does not implement is refused here, before anything is read or written.
    private func authenticated(_ request: Request, bucket: String?, rawKey: String?, sourceIP: String?, requestID: String,
                               dialect: OSSDialect) async throws -> (ObjectCall, OSSOperation) {
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
        var caller: Caller?
        if let signature = try OSSSignature.read(input) {
            if let expires = signature.expires, expires < access.now() {
                throw OSSError.accessDenied("Request has expired.")
            }
            caller = try await dialect.authenticate(access, accessKeyID: signature.accessKeyID, securityToken: signature.securityToken,
                                                    signedAt: signature.signedAt, nonce: nil, matches: signature.matches)
        }
        let level: ResourceLevel = bucket == nil ? .service : key == nil ? .bucket : .object
        let operation = try OSSOperation.table.operation(
            method: request.method, level: level, query: Set(pairs.map(\.0)), headers: request.headers, anonymous: caller == nil,
            publicRead: \.isPublicRead, denied: OSSError.accessDenied("Anonymous access is not allowed: sign the request."),
            notImplemented: OSSError.notImplemented, methodNotAllowed: methodNotAllowed())
        let call = ObjectCall(request: request, bucket: bucket, key: key, query: Dictionary(pairs, uniquingKeysWith: { a, _ in a }),
                           caller: caller, sourceIP: sourceIP, requestID: requestID)
        return (call, operation)
    }

    /// The object a URL of this server names, when a GET of that URL would be allowed (a
    /// presigned URL, or an object a public access rule opens): the same signature, expiry and
    /// access checks as the GET itself, so another dialect can read the object directly.
    func readableObject(path: String, query: String?, authority: String?, sourceIP: String?, requestID: String,
                        dialect: OSSDialect) async throws -> (bucket: BucketName, key: ObjectKey) {
        let (bucket, rawKey) = RequestHead.segments(of: path)
        var head = HTTPRequest(method: .get, scheme: "http", authority: authority, path: query.map { "\(path)?\($0)" } ?? path)
        head.headerFields = [:]
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        let (call, operation) = try await authenticated(request, bucket: bucket.isEmpty ? nil : bucket, rawKey: rawKey,
                                                        sourceIP: sourceIP, requestID: requestID, dialect: dialect)
        guard operation == .getObject else { throw OSSError.accessDenied("The URL does not name an object to read.") }
        let name = try call.bucketName, key = try call.objectKey
        _ = try await operations.readable(call, bucket: name, key: key)
        return (name, key)
    }

    func methodNotAllowed() -> WireError {
        WireError(status: .methodNotAllowed, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.")
    }
}
