import Foundation
import VisageCore
import VisageSigning

/// Signs outgoing requests with AWS Signature Version 4, from the same canonical-request pieces
/// the server uses to verify incoming ones.
struct S3RequestSigner: Sendable {
    let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?
    let region: String

    /// The hash that stands for a body sent without its digest in the signature.
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers to add to a request: the date, the payload hash, the session token if any, and
    /// `Authorization`. `path` is already percent-encoded; `headers` are those sent (host included).
    func sign(method: String, path: String, query: [(String, String)], headers: [(name: String, value: String)],
              payloadHash: String, now: Date = Date()) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(now)
        var added: [(name: String, value: String)] = [("x-amz-date", stamp), ("x-amz-content-sha256", payloadHash)]
        if let sessionToken { added.append(("x-amz-security-token", sessionToken)) }
        let all = headers + added
        let signed = Array(Set(all.map { $0.name.lowercased() })).sorted()
        let canonical = CanonicalRequest.text(
            method: method, uri: path, query: CanonicalRequest.query(query, bareEmpty: false),
            headers: CanonicalRequest.headers(all), signedHeaders: signed, payload: payloadHash)
        let scope = CredentialScope(accessKeyID: accessKeyID, date: String(stamp.prefix(8)), region: region, service: "s3",
                                    terminator: "aws4_request")
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope.scope, SigningText.sha256Hex(Data(canonical.utf8))].joined(separator: "\n")
        let signature = scope.signature(secret: secretAccessKey, prefix: "AWS4", stringToSign: stringToSign)
        added.append(("Authorization",
                      "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope.scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"))
        return added
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }
}
