import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import VisageSigning

/// The signature of an Alibaba Cloud ROA call (a product's own paths, such as `/green/…`): ACS3
/// (`ACS3-HMAC-SHA256`, the SDKs' default, with the path as canonical URI) or ROA V1
/// (`Authorization: acs AK:SIGNATURE`, HMAC-SHA1, sent with `signature_algorithm='v2'` and by
/// the older SDK).
enum ROASignature {
    static func read(_ request: Request, body: [UInt8]) throws -> RPCSignature {
        let headers = request.headers
        guard let authorization = headers[.authorization] else {
            throw WireError(status: .badRequest, code: "MissingAuthorization", message: "The request is not signed: no Authorization header.")
        }
        if authorization.hasPrefix("ACS3-HMAC-SHA256 ") {
            return try RPCSignature.acs3(authorization: authorization, method: request.method, authority: request.head.authority,
                                         path: request.uri.path, rawQuery: request.uri.query ?? "", headers: headers, body: body)
        }
        guard authorization.hasPrefix("acs ") else {
            throw RPCSignature.incomplete("The Authorization header uses an unsupported signature algorithm.")
        }
        return try v1(authorization: String(authorization.dropFirst(4)), request: request, body: body)
    }

    /// ROA V1: `METHOD\nAccept\nContent-MD5\nContent-Type\nDate\n`, then every `x-acs-` header
    /// sorted as `name:value\n`, then the path and the sorted query with raw (decoded) values.
    static func v1(authorization: String, request: Request, body: [UInt8]) throws -> RPCSignature {
        guard let colon = authorization.lastIndex(of: ":") else {
            throw RPCSignature.incomplete("The Authorization header must be acs AccessKeyId:Signature.")
        }
        let accessKeyID = String(authorization[..<colon]), signature = String(authorization[authorization.index(after: colon)...])
        let headers = request.headers
        let header = { (name: String) in HTTPField.Name(name).flatMap { headers[$0] } ?? "" }
        guard header("x-acs-signature-method") == "HMAC-SHA1" else {
            throw WireError(status: .badRequest, code: "InvalidParameter", message: "ROA V1 signatures must use x-acs-signature-method HMAC-SHA1.")
        }
        guard let date = HTTPDates.parse(header("date")) else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The Date header is missing or malformed.")
        }
        let nonce = header("x-acs-signature-nonce")
        guard !nonce.isEmpty else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The x-acs-signature-nonce header is missing.")
        }
        let md5 = header("content-md5")
        if !md5.isEmpty, md5 != Data(Insecure.MD5.hash(data: body)).base64EncodedString() {
            throw WireError(status: .badRequest, code: "InvalidContentMD5", message: "Content-MD5 does not match the body.")
        }
        var acsHeaders: [(String, String)] = []
        for field in headers where field.name.canonicalName.hasPrefix("x-acs-") {
            acsHeaders.append((field.name.canonicalName, field.value))
        }
        let canonicalHeaders = acsHeaders.sorted { $0.0 < $1.0 }.map { "\($0.0):\($0.1)\n" }.joined()
        let query = FormEncoding.decode(request.uri.query ?? "").sorted { $0.0 < $1.0 }
        var resource = request.uri.path
        if !query.isEmpty { resource += "?" + query.map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }.joined(separator: "&") }
        let text = [request.method.rawValue, header("accept"), md5, header("content-type"), header("date")].joined(separator: "\n")
            + "\n" + canonicalHeaders + resource
        return RPCSignature(accessKeyID: accessKeyID, securityToken: headers[HTTPField.Name("x-acs-security-token")!], timestamp: date,
                            nonce: nonce) { secret in
            SigningText.constantTimeEqual(SigningText.hmacSHA1Base64(secret, text), signature)
        }
    }
}
