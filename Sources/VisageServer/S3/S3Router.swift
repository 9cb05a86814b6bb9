import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import VisageAccess
import VisageCore
import VisageStore

/// One S3 request: the shared object call (names, caller, authorization) and the signature
/// that covers its body.
struct S3Call: Sendable {
    let base: ObjectCall
    let signature: S3Signature?
    /// The checksum the body was verified against, once it has been read.
    let checksum = ChecksumCell()

    var request: Request { base.request }
    var query: [String: String] { base.query }
    var headers: HTTPFields { base.request.headers }

    var bucketName: BucketName { get throws { try base.bucketName } }
    var objectKey: ObjectKey { get throws { try ObjectKey(base.key ?? "") } }

    /// The body's payload bytes, checked against the signature, the decoded length and any
    /// declared checksum; a check that fails fails the last read, so nothing is stored.
    func body() throws -> S3CheckedBody<BodyBlocks<RequestBody>> {
        let check = try S3BodyCheck(payload: signature?.payload ?? .unsigned, chain: signature?.chunkChain, headers: headers)
        let cell = checksum
        return S3CheckedBody(base: request.body.blocks, check: check) { finished in
            if let verified = finished.verifiedChecksum { cell.set(verified.algorithm.header, verified.value) }
        }
    }

    /// The whole (small) body, checked.
    func collect(limit: Int = 2 * 1024 * 1024) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await piece in try body() {
            bytes += piece
            guard bytes.count <= limit else {
                throw WireError(status: .badRequest, code: "MaxMessageLengthExceeded", message: "Your request was too big.")
            }
        }
        return bytes
    }

    /// The request id headers every answer carries, and the verified checksum of a write.
    func responseHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[.amzRequestID] = base.requestID
        headers[.amzID2] = S3XML.hostID(base.requestID)
        if let verified = checksum.get(), let field = HTTPField.Name(verified.0) { headers[field] = verified.1 }
        return headers
    }
}

/// The checksum a body was verified against, from the body reader to the response.
final class ChecksumCell: Sendable {
    private let value = Mutex<(String, String)?>(nil)

    func set(_ name: String, _ checksum: String) { value.withLock { $0 = (name, checksum) } }
    func get() -> (String, String)? { value.withLock { $0 } }
}

/// The S3 API, path-style and (with a base domain) virtual-host-style: authenticates the SigV4
/// signature, decodes bucket and key, matches the operation table, and dispatches to `S3Operations`.
struct S3Router: Sendable {
    let operations: S3Operations
    let access: AccessServices
    /// Requests to `bucket.baseDomain` name their bucket in the host; nil: path-style only.
    var baseDomain: String?

    /// The bucket and the still percent-encoded key a request names: from the host when it is a
    /// bucket's virtual host, else from the path.
    func names(_ request: Request) -> (bucket: String?, rawKey: String?) {
        if let baseDomain, let authority = request.head.authority?.lowercased() {
            let host = authority.hasPrefix("[") ? authority : String(authority.split(separator: ":").first ?? "")
            if host.hasSuffix("." + baseDomain) {
                let path = request.uri.path.drop(while: { $0 == "/" })
                return (String(host.dropLast(baseDomain.count + 1)), path.isEmpty ? nil : String(path))
            }
        }
        let (first, rawKey) = RequestHead.segments(of: request.uri.path)
        return (first.isEmpty ? nil : first, rawKey)
    }

    func respond(to request: Request, context: VisageContext, dialect: S3Dialect) async throws -> Response {
        let (bucket, rawKey) = names(request)
        let cors = try await CrossOrigin(request: request, bucket: bucket, objects: operations.objects)
        if request.method == .options { return try cors.preflight(requestID: context.requestID, requestIDHeader: .amzRequestID) }
        var response: Response
        do {
            let (call, operation) = try await authenticated(request, bucket: bucket, rawKey: rawKey, sourceIP: context.remoteAddress,
                                                            requestID: context.requestID, dialect: dialect)
            context.coreContext.endpointPath.value = "s3:\(operation.rawValue)"
            response = try await operations.perform(operation, call)
        } catch {
            // Rendered here so that cross-origin callers can read errors too.
            response = dialect.render(dialect.wireError(error), for: request, requestID: context.requestID)
        }
        cors.decorate(&response)
        return response
    }

    /// The request's operation and who signed it, once the signature holds; an operation Visage
    /// does not implement is refused here, before anything is read or written.
    func authenticated(_ request: Request, bucket: String?, rawKey: String?, sourceIP: String?, requestID: String,
                       dialect: S3Dialect) async throws -> (S3Call, S3Operation) {
        // S3 keys arrive percent-encoded once; `+` in a path is a plus.
        var key: String?
        if let rawKey {
            guard let decoded = rawKey.removingPercentEncoding else {
                throw S3Error.invalidArgument("The object key is not valid percent-encoding.")
            }
            key = decoded
        }
        let pairs = FormEncoding.decode(request.uri.query ?? "")
        let input = S3Signature.Input(method: request.method, rawPath: request.uri.path, query: pairs, headers: request.headers,
                                      authority: request.head.authority)
        var caller: Caller?
        let signature = try S3Signature.read(input)
        if let signature {
            let now = access.now()
            if let expires = signature.expires, expires < now { throw S3Error.accessDenied("Request has expired") }
            if let notBefore = signature.notBefore, notBefore > now.addingTimeInterval(access.clockSkew) {
                throw S3Error.accessDenied("Request is not valid yet")
            }
            caller = try await dialect.authenticate(access, accessKeyID: signature.accessKeyID, securityToken: signature.securityToken,
                                                    signedAt: signature.signedAt, nonce: nil, matches: signature.matches)
        }
        let level: ResourceLevel = bucket == nil ? .service : key == nil ? .bucket : .object
        let operation = try S3Operation.table.operation(
            method: request.method, level: level, query: Set(pairs.map(\.0)), headers: request.headers, anonymous: caller == nil,
            publicRead: { $0 == .getObject || $0 == .headObject },
            denied: S3Error.accessDenied("Anonymous access is not allowed: sign the request."),
            notImplemented: S3Error.notImplemented, methodNotAllowed: S3Error.methodNotAllowed)
        let base = ObjectCall(request: request, bucket: bucket, key: key, query: Dictionary(pairs, uniquingKeysWith: { a, _ in a }),
                              caller: caller, sourceIP: sourceIP, requestID: requestID)
        return (S3Call(base: base, signature: signature), operation)
    }
}
