import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import VisageAccess
import VisageCore
@testable import VisageServer
import VisageSigning
import VisageTestSupport

/// A dialect that exists only in this file: `/echo/...`, signed `Authorization: ECHO <key id>:<hex HMAC-SHA256 of the path>`,
/// answering with the caller's account, errors as plain text. Nothing else in the server knows it.
struct EchoDialect: Dialect {
    let access: AccessServices
    let name = "echo"
    let recognition = Recognition(pathPrefixes: ["echo"])

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("ECHO "),
              let colon = authorization.firstIndex(of: ":")
        else { throw WireError(status: .badRequest, code: "Unsigned", message: "sign the request") }
        let keyID = String(authorization[authorization.index(authorization.startIndex, offsetBy: 5)..<colon])
        let signature = String(authorization[authorization.index(after: colon)...])
        let path = request.uri.path
        let caller = try await authenticate(access, accessKeyID: keyID, securityToken: nil, signedAt: nil, nonce: nil) { secret in
            SigningText.hex(SigningText.hmacSHA256(Data(secret.utf8), path)) == signature
        }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "hello \(caller.accountID)")))
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError {
        switch problem {
        case .signatureMismatch: WireError(status: .unauthorized, code: "EchoBadSignature", message: "wrong signature")
        case .credentials: WireError(status: .unauthorized, code: "EchoUnknownKey", message: "unknown key")
        case .timeSkewed, .nonceReused: WireError(status: .unauthorized, code: "EchoRefused", message: "refused")
        }
    }

    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        Response(status: error.status, headers: [.contentType: "text/plain"],
                 body: .init(byteBuffer: ByteBuffer(string: "ECHO-ERROR \(error.code) \(requestID)")))
    }
}

@Suite("A dialect registered from outside")
struct ExtraDialectTests {
    @Test("one line registers a dialect: it gets its requests, authentication in its own codes and its own error bodies",
          arguments: TestEngine.available)
    func echo(engine: TestEngine) async throws {
        let key = AccessKey(id: "LTAIechotest0000001", secret: "echo-secret", accountID: "1234567890123456", principal: "root",
                            status: .active, created: Date())
        try await withLiveServer(engine, extra: { [EchoDialect(access: $0.access)] }, setUp: { components in
            try await components.access.identities.keys.createAccount(id: key.accountID, name: "root")
            try await components.access.identities.keys.put(key)
        }) { client in
            let signature = SigningText.hex(SigningText.hmacSHA256(Data(key.secret.utf8), "/echo/hi"))
            try await client.execute(uri: "/echo/hi", method: .get, headers: [.authorization: "ECHO \(key.id):\(signature)"]) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "hello \(key.accountID)")
            }
            let refusals: [(String, HTTPFields, HTTPResponse.Status, String)] = [
                ("/echo/hi", [:], .badRequest, "Unsigned"),
                ("/echo/hi", [.authorization: "ECHO \(key.id):00"], .unauthorized, "EchoBadSignature"),
                ("/echo/hi", [.authorization: "ECHO LTAInobody:\(signature)"], .unauthorized, "EchoUnknownKey"),
            ]
            for (uri, headers, status, code) in refusals {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    let requestID = response.headers[HTTPField.Name("x-visage-request-id")!] ?? "?"
                    #expect(response.status == status)
                    #expect(String(buffer: response.body) == "ECHO-ERROR \(code) \(requestID)")
                }
            }
            // Its path is its own: not a bucket, and the other dialects are untouched.
            try await client.execute(uri: "/echo", method: .put) { response in
                #expect(String(buffer: response.body).hasPrefix("ECHO-ERROR Unsigned"))
            }
            try await client.execute(uri: "/photos/a.jpg", method: .get) { response in
                #expect(String(buffer: response.body).contains("<Code>AccessDenied</Code>"))
            }
        }
    }
}
