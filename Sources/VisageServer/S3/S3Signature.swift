import Foundation
import HTTPTypes
import Synchronization
import VisageSigning

/// How the body of a SigV4-signed request is covered (`x-amz-content-sha256`).
enum S3Payload: Sendable, Equatable {
    /// The lower-case hex SHA-256 of the whole body, checked once it has been read.
    case sha256(String)
    /// `UNSIGNED-PAYLOAD` (and every presigned URL).
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: aws-chunked, each chunk signed in a chain
    /// that starts at the request's signature.
    case signedChunks(trailer: Bool)
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked without signatures, a checksum trailer.
    case unsignedChunks

    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    init?(_ text: String?) {
        guard let text else {
            self = .unsigned
            return
        }
        switch text {
        case "UNSIGNED-PAYLOAD": self = .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .signedChunks(trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .signedChunks(trailer: true)
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .unsignedChunks
        default:
            guard text.utf8.count == 64, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
            self = .sha256(text)
        }
    }
}

/// The credentials and signature of an S3 request in AWS Signature Version 4, header
/// (`Authorization: AWS4-HMAC-SHA256 …`) or presigned (`X-Amz-Algorithm=AWS4-HMAC-SHA256&…`)
/// form, for service `s3` in any region. Built from the shared pieces in `Signing/`.
struct S3Signature: Sendable {
    let accessKeyID: String
    let securityToken: String?
    /// Signing time of the header form, checked against the clock-skew window.
    let signedAt: Date?
    /// End of validity of the presigned form.
    let expires: Date?
    /// Start of validity of the presigned form (a URL signed for later is not valid yet).
    let notBefore: Date?
    let payload: S3Payload
    /// `x-amz-date` as signed, the credential scope and the request's signature: what each
    /// chunk's signature chains from.
    let date: String
    /// Nil for Signature Version 2, which has no scope.
    let scope: CredentialScope?
    let signature: String
    let stringToSign: String
    /// Signature Version 2 (HMAC-SHA1, base64) rather than 4.
    var isVersion2 = false
    /// The signing key, kept once `matches` has accepted a secret, for the chunk signatures.
    private let key = SigningKeyCell()

    /// The request as SigV4 sees it: method, path as sent, decoded query pairs, headers, host.
    struct Input: Sendable {
        var method: HTTPRequest.Method
        var rawPath: String
        var query: [(String, String)]
        var headers: HTTPFields
        var authority: String?
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// Reads the signature; nil when the request carries none (anonymous).
    static func read(_ input: Input) throws -> S3Signature? {
        let query = Dictionary(input.query, uniquingKeysWith: { first, _ in first })
        if let authorization = input.headers[.authorization] {
            if authorization.hasPrefix("AWS ") { return try version2Header(input, authorization: authorization) }
            guard let fields = AuthorizationParameters.parse(authorization, scheme: algorithm) else {
                throw S3Error.accessDenied("The Authorization header uses an unsupported signature scheme; sign with AWS4-HMAC-SHA256.")
            }
            return try header(input, fields: fields)
        }
        if query["X-Amz-Algorithm"] != nil || query["X-Amz-Credential"] != nil { return try presigned(input, query: query) }
        if query["AWSAccessKeyId"] != nil { return try version2Query(input, query: query) }
        return nil
    }

    static func header(_ input: Input, fields: [String: String]) throws -> S3Signature {
        guard let credential = fields["Credential"], let signedText = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw S3Error.authorizationMalformed("The Authorization header needs Credential, SignedHeaders and Signature.")
        }
        let scope = try credentialScope(credential)
        guard let dateText = input.headers[.amzDate], let date = compactDate(dateText), dateText.hasPrefix(scope.date) else {
            throw S3Error.accessDenied("The x-amz-date header is missing, malformed or not the day of the credential scope.")
        }
        let signed = signedText.split(separator: ";").map { $0.lowercased() }
        guard signed.contains("host") else { throw S3Error.accessDenied("The host header must be signed.") }
        // Every x-amz- header takes part in the request's meaning, so each must be signed.
        for field in input.headers where field.name.canonicalName.hasPrefix("x-amz-") && !signed.contains(field.name.canonicalName) {
            throw S3Error.accessDenied("There were headers present in the request which were not signed: \(field.name.canonicalName).")
        }
        let payloadText = input.headers[.amzContentSHA256]
        guard let payload = S3Payload(payloadText), payloadText != nil else {
            throw WireError(status: .badRequest, code: "InvalidArgument",
                            message: "x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING- form.")
        }
        let text = stringToSign(input, query: input.query, signed: signed, payload: payloadText!, date: dateText, scope: scope)
        return S3Signature(accessKeyID: scope.accessKeyID, securityToken: input.headers[.amzSecurityToken], signedAt: date,
                           expires: nil, notBefore: nil, payload: payload, date: dateText, scope: scope,
                           signature: signature.lowercased(), stringToSign: text)
    }

    /// Longest validity a presigned URL may ask for: seven days.
    static let maxExpires: TimeInterval = 7 * 24 * 3600

    static func presigned(_ input: Input, query: [String: String]) throws -> S3Signature {
        guard query["X-Amz-Algorithm"] == algorithm, let credential = query["X-Amz-Credential"],
              let dateText = query["X-Amz-Date"], let date = compactDate(dateText),
              let expiresText = query["X-Amz-Expires"], let seconds = Int(expiresText),
              let signedText = query["X-Amz-SignedHeaders"], let signature = query["X-Amz-Signature"]
        else {
            throw S3Error.authorizationQueryMalformed(
                "A presigned URL needs X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                    + "X-Amz-SignedHeaders and X-Amz-Signature.")
        }
        guard (1...Int(maxExpires)).contains(seconds) else {
            throw S3Error.authorizationQueryMalformed("X-Amz-Expires must be from 1 to 604800 seconds.")
        }
        let scope = try credentialScope(credential)
        guard dateText.hasPrefix(scope.date) else { throw S3Error.accessDenied("X-Amz-Date is not the day of the credential scope.") }
        let signed = signedText.split(separator: ";").map { $0.lowercased() }
        guard signed.contains("host") else { throw S3Error.accessDenied("The host header must be signed.") }
        let text = stringToSign(input, query: input.query.filter { $0.0 != "X-Amz-Signature" }, signed: signed,
                                  payload: "UNSIGNED-PAYLOAD", date: dateText, scope: scope)
        return S3Signature(accessKeyID: scope.accessKeyID, securityToken: query["X-Amz-Security-Token"], signedAt: nil,
                           expires: date.addingTimeInterval(TimeInterval(seconds)), notBefore: date, payload: .unsigned,
                           date: dateText, scope: scope, signature: signature.lowercased(), stringToSign: text)
    }

    /// `AK/yyyymmdd/region/s3/aws4_request`, any region.
    static func credentialScope(_ credential: String) throws -> CredentialScope {
        guard let scope = CredentialScope.parse(credential, service: "s3", terminator: "aws4_request") else {
            throw S3Error.authorizationMalformed("The credential scope must name a key, a date, a region, s3 and aws4_request.")
        }
        return scope
    }

    /// The string to sign. The canonical URI is the path exactly as sent: S3 clients encode each
    /// segment once and sign that, and S3 does not encode it again (or decode it first).
    static func stringToSign(_ input: Input, query: [(String, String)], signed: [String], payload: String, date: String,
                             scope: CredentialScope) -> String {
        var headers: [(name: String, value: String)] = []
        for name in signed {
            if name == "host" {
                headers.append((name, input.authority ?? input.headers[HTTPField.Name("host")!] ?? ""))
                continue
            }
            guard let field = HTTPField.Name(name) else { continue }
            for value in input.headers[values: field] { headers.append((name, collapseSpaces(value))) }
            if input.headers[field] == nil { headers.append((name, "")) }
        }
        let request = CanonicalRequest.text(method: input.method.rawValue, uri: input.rawPath.isEmpty ? "/" : input.rawPath,
                                            query: CanonicalRequest.query(query, bareEmpty: false),
                                            headers: CanonicalRequest.headers(headers), signedHeaders: signed, payload: payload)
        return [algorithm, date, scope.scope, SigningText.sha256Hex(Data(request.utf8))].joined(separator: "\n")
    }

    /// SigV4 compares header values with runs of spaces reduced to one.
    static func collapseSpaces(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Whether `secret` signed the request; keeps its signing key for the chunk signatures.
    func matches(_ secret: String) -> Bool {
        guard let scope, !isVersion2 else {
            return SigningText.constantTimeEqual(SigningText.hmacSHA1Base64(secret, stringToSign), signature)
        }
        let signingKey = scope.signingKey(secret: secret, prefix: "AWS4")
        let good = SigningText.constantTimeEqual(SigningText.hex(SigningText.hmacSHA256(signingKey, stringToSign)), signature)
        if good { key.set(signingKey) }
        return good
    }

    /// The chain that verifies an aws-chunked body; nil before the signature has been matched.
    var chunkChain: ChunkSignatureChain? {
        guard let scope, let signingKey = key.get() else { return nil }
        return ChunkSignatureChain(key: signingKey, date: date, scope: scope.scope, previous: signature)
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func compactDate(_ text: String) -> Date? { OSSSignature.compactDate(text) }
}

/// The signing key of a request whose signature matched, handed from authentication to the
/// body reader.
final class SigningKeyCell: Sendable {
    private let value = Mutex<[UInt8]?>(nil)

    func set(_ key: [UInt8]) { value.withLock { $0 = key } }
    func get() -> [UInt8]? { value.withLock { $0 } }
}

/// The chained signatures of an aws-chunked body: each chunk's signature covers its bytes and
/// the signature before it, starting from the request's own; a trailer is signed last.
struct ChunkSignatureChain: Sendable {
    let key: [UInt8]
    let date: String
    let scope: String
    private(set) var previous: String

    init(key: [UInt8], date: String, scope: String, previous: String) {
        self.key = key
        self.date = date
        self.scope = scope
        self.previous = previous
    }

    /// Checks the signature of a chunk whose bytes have the hex SHA-256 `dataHash`, and moves on.
    mutating func verifyChunk(dataHash: String, signature: String) -> Bool {
        let text = ["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, S3Payload.emptySHA256, dataHash].joined(separator: "\n")
        return advance(text, signature)
    }

    /// Checks the signature of the trailer lines (`name:value\n` each).
    mutating func verifyTrailer(_ trailer: String, signature: String) -> Bool {
        let text = ["AWS4-HMAC-SHA256-TRAILER", date, scope, previous, SigningText.sha256Hex(Data(trailer.utf8))].joined(separator: "\n")
        return advance(text, signature)
    }

    private mutating func advance(_ text: String, _ signature: String) -> Bool {
        let expected = SigningText.hex(SigningText.hmacSHA256(key, text))
        guard SigningText.constantTimeEqual(expected, signature.lowercased()) else { return false }
        previous = expected
        return true
    }
}

extension HTTPField.Name {
    static let amzDate = HTTPField.Name("x-amz-date")!
    static let amzContentSHA256 = HTTPField.Name("x-amz-content-sha256")!
    static let amzSecurityToken = HTTPField.Name("x-amz-security-token")!
    static let amzRequestID = HTTPField.Name("x-amz-request-id")!
    static let amzID2 = HTTPField.Name("x-amz-id-2")!
    static let amzDecodedContentLength = HTTPField.Name("x-amz-decoded-content-length")!
    static let amzTrailer = HTTPField.Name("x-amz-trailer")!
    static let amzCopySource = HTTPField.Name("x-amz-copy-source")!
}
