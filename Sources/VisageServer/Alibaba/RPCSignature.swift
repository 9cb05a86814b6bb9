import Foundation
import HTTPTypes
import Hummingbird
import VisageCore
import VisageSigning

/// The credentials and signature of an Alibaba Cloud RPC call, in either form the official
/// SDKs send: ACS3-HMAC-SHA256 in the `Authorization` header (the default), or the V1 HMAC-SHA1
/// `Signature` parameter (`SignatureVersion=1.0`).
struct RPCSignature: Sendable {
    let accessKeyID: String
    let securityToken: String?
    let timestamp: Date
    let nonce: String
    /// Whether the signature was made with `secret`.
    let matches: @Sendable (_ secret: String) -> Bool

    /// Reads the signature of a call; `rawQuery` is the query string as sent.
    static func read(method: HTTPRequest.Method, authority: String?, path: String, rawQuery: String, headers: HTTPFields,
                     parameters: [String: String], body: [UInt8]) throws -> RPCSignature {
        if let authorization = headers[.authorization], authorization.hasPrefix("ACS3-HMAC-SHA256 ") {
            return try acs3(authorization: authorization, method: method, authority: authority, path: path, rawQuery: rawQuery,
                            headers: headers, body: body)
        }
        if parameters["Signature"] != nil {
            return try v1(method: method, parameters: parameters)
        }
        if headers[.authorization] != nil {
            throw WireError(status: .badRequest, code: "IncompleteSignature",
                            message: "The Authorization header uses an unsupported signature algorithm.")
        }
        throw WireError(status: .badRequest, code: "MissingParameter",
                        message: "The request is not signed: no Authorization header and no Signature parameter.")
    }

    static func acs3(authorization: String, method: HTTPRequest.Method, authority: String?, path: String, rawQuery: String,
                     headers: HTTPFields, body: [UInt8]) throws -> RPCSignature {
        let fields = AuthorizationParameters.parse(authorization, scheme: "ACS3-HMAC-SHA256") ?? [:]
        guard let accessKeyID = fields["Credential"], let signedList = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw incomplete("The Authorization header needs Credential, SignedHeaders and Signature.")
        }
        let signed = signedList.split(separator: ";").map { $0.lowercased() }
        // Everything that identifies the call must be covered by the signature.
        // HTTP/1 `Host` arrives as the request's authority, not among the header fields.
        let present = Set(headers.map { $0.name.canonicalName } + (authority == nil ? [] : ["host"]))
        let required = ["host", "x-acs-date", "x-acs-signature-nonce", "x-acs-action", "x-acs-version", "x-acs-security-token",
                        "x-acs-content-sha256", "content-type"].filter(present.contains)
        for name in required where !signed.contains(name) {
            throw incomplete("The header \(name) must be signed.")
        }
        guard let date = headers[HTTPField.Name("x-acs-date")!], let timestamp = RPCSignature.parseTime(date) else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The x-acs-date header is missing or malformed.")
        }
        guard let nonce = headers[HTTPField.Name("x-acs-signature-nonce")!], !nonce.isEmpty else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The x-acs-signature-nonce header is missing.")
        }
        let payloadHash = SigningText.sha256Hex(body)
        if let claimed = headers[HTTPField.Name("x-acs-content-sha256")!], claimed.lowercased() != payloadHash {
            throw WireError(status: .badRequest, code: "SignatureDoesNotMatch", message: "x-acs-content-sha256 does not match the body.")
        }
        var headerPairs: [(name: String, value: String)] = []
        for name in signed {
            let values = name == "host" ? [authority ?? ""] : HTTPField.Name(name).map { headers[values: $0] } ?? []
            // ACS3 sorts repeated values of one header before joining them; a signed header that
            // is absent signs as empty.
            headerPairs += (values.isEmpty ? [""] : values.map { $0.trimmingCharacters(in: .whitespaces) }.sorted()).map { (name, $0) }
        }
        let canonicalRequest = CanonicalRequest.text(
            method: method.rawValue, uri: path, query: CanonicalRequest.query(FormEncoding.decode(rawQuery), bareEmpty: false),
            headers: CanonicalRequest.headers(headerPairs), signedHeaders: signed, payload: payloadHash)
        let stringToSign = "ACS3-HMAC-SHA256\n" + SigningText.sha256Hex(Data(canonicalRequest.utf8))
        let token = headers[HTTPField.Name("x-acs-security-token")!]
        return RPCSignature(accessKeyID: accessKeyID, securityToken: token, timestamp: timestamp, nonce: nonce) { secret in
            SigningText.constantTimeEqual(SigningText.hex(SigningText.hmacSHA256(Data(secret.utf8), stringToSign)), signature.lowercased())
        }
    }

    static func v1(method: HTTPRequest.Method, parameters: [String: String]) throws -> RPCSignature {
        guard let accessKeyID = parameters["AccessKeyId"], let signature = parameters["Signature"] else {
            throw incomplete("AccessKeyId and Signature are required.")
        }
        guard parameters["SignatureMethod"] == "HMAC-SHA1", parameters["SignatureVersion"] == "1.0" else {
            throw WireError(status: .badRequest, code: "InvalidParameter",
                            message: "Only SignatureMethod HMAC-SHA1 with SignatureVersion 1.0 is supported.")
        }
        guard let time = parameters["Timestamp"], let timestamp = parseTime(time) else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The Timestamp parameter is missing or malformed.")
        }
        guard let nonce = parameters["SignatureNonce"], !nonce.isEmpty else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The SignatureNonce parameter is missing.")
        }
        let canonical = parameters.filter { $0.key != "Signature" }
            .map { (SigningText.percentEncode($0.key), SigningText.percentEncode($0.value)) }
            .sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let stringToSign = "\(method.rawValue)&%2F&\(SigningText.percentEncode(canonical))"
        return RPCSignature(accessKeyID: accessKeyID, securityToken: parameters["SecurityToken"], timestamp: timestamp,
                            nonce: nonce) { secret in
            SigningText.constantTimeEqual(SigningText.hmacSHA1Base64(secret + "&", stringToSign), signature)
        }
    }

    static func incomplete(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "IncompleteSignature", message: message)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, as both forms send it.
    static func parseTime(_ text: String) -> Date? {
        DateText.parseable(text) ? ISO8601DateFormatter().date(from: text) : nil
    }
}
