import Foundation
import HTTPTypes
import Hummingbird
import VisageSigning

/// The SigV4 `Authorization` header of an AWS JSON or REST-JSON service request (Rekognition,
/// the A2I runtime): scoped to one service in any region, covering the whole body, which these
/// clients hash themselves rather than send an `x-amz-content-sha256`. Built from the shared
/// pieces in `VisageSigning`; failures are named by the caller's `AWSJSONSignature.Problem`.
struct AWSJSONSignature: Sendable {
    let accessKeyID: String
    let securityToken: String?
    let signedAt: Date
    let scope: CredentialScope
    let signature: String
    let stringToSign: String

    /// Why a request's signature cannot even be checked.
    enum Problem: Error, Equatable {
        case missing
        case malformed(String)
        case wrongService(String)
    }

    static func read(_ request: Request, body: [UInt8], service: String) throws(Problem) -> AWSJSONSignature {
        guard let authorization = request.headers[.authorization] else { throw .missing }
        guard let fields = AuthorizationParameters.parse(authorization, scheme: S3Signature.algorithm),
              let credential = fields["Credential"], let signedText = fields["SignedHeaders"], let signature = fields["Signature"]
        else { throw .malformed("Authorization header requires Credential, SignedHeaders and Signature (AWS4-HMAC-SHA256).") }
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 5, parts[3] != service { throw .wrongService(service) }
        guard let scope = CredentialScope.parse(credential, service: service, terminator: "aws4_request") else {
            throw .malformed("Credential must be KEY/yyyymmdd/region/\(service)/aws4_request.")
        }
        guard let dateText = request.headers[.amzDate] ?? request.headers[HTTPField.Name("date")!],
              let date = S3Signature.compactDate(dateText), dateText.hasPrefix(scope.date)
        else { throw .malformed("X-Amz-Date must be YYYYMMDDTHHMMSSZ on the day of the credential scope.") }
        let signed = signedText.split(separator: ";").map { $0.lowercased() }
        guard signed.contains("host") else { throw .malformed("The host header must be signed.") }
        var headers: [(name: String, value: String)] = []
        for name in signed {
            if name == "host" {
                headers.append((name, request.head.authority ?? request.headers[HTTPField.Name("host")!] ?? ""))
                continue
            }
            guard let field = HTTPField.Name(name) else { continue }
            let values = request.headers[values: field]
            if values.isEmpty { headers.append((name, "")) }
            for value in values { headers.append((name, S3Signature.collapseSpaces(value))) }
        }
        let canonical = CanonicalRequest.text(
            method: request.method.rawValue, uri: request.uri.path.isEmpty ? "/" : request.uri.path,
            query: CanonicalRequest.query(FormEncoding.decode(request.uri.query ?? ""), bareEmpty: false),
            headers: CanonicalRequest.headers(headers), signedHeaders: signed, payload: SigningText.sha256Hex(body))
        let text = [S3Signature.algorithm, dateText, scope.scope, SigningText.sha256Hex(Data(canonical.utf8))].joined(separator: "\n")
        return AWSJSONSignature(accessKeyID: scope.accessKeyID, securityToken: request.headers[.amzSecurityToken], signedAt: date,
                                scope: scope, signature: signature.lowercased(), stringToSign: text)
    }

    /// Whether `secret` signed the request.
    func matches(_ secret: String) -> Bool {
        SigningText.constantTimeEqual(scope.signature(secret: secret, prefix: "AWS4", stringToSign: stringToSign), signature)
    }
}
