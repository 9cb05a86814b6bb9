import Crypto
import Foundation
import VisageCore

/// What a session token grants: the client calls of one session, of one kind, until `expires`.
public struct LivenessTokenClaims: Codable, Sendable, Equatable {
    public let sessionID: String
    public let kind: LivenessKind
    public let expiresMillis: Int64

    public init(sessionID: String, kind: LivenessKind, expiresMillis: Int64) {
        self.sessionID = sessionID
        self.kind = kind
        self.expiresMillis = expiresMillis
    }
}

/// Signs and checks session tokens: `v1.<claims>.<HMAC-SHA256>`, both parts base64url. The key
/// is derived from the data directory's key, so tokens survive a restart and any process of the
/// server can check them; revocation (a deleted session) is checked against the store.
public struct LivenessTokens: Sendable {
    /// The HKDF purpose of the signing key.
    public static let purpose = "liveness-session-token"
    let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func sign(_ claims: LivenessTokenClaims) throws -> String {
        // Sorted keys: the same claims always give the same token (GA's GET returns it again).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Self.base64url(try encoder.encode(claims))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("v1." + payload).utf8), using: key)
        return "v1.\(payload).\(Self.base64url(Data(mac)))"
    }

    /// The claims of an untampered token (expiry is the caller's to check, so it can tell an
    /// expired token from a forged one and record it against the session).
    public func verify(_ token: String) throws -> LivenessTokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", token.utf8.count <= 2048,
              let mac = Self.decode(String(parts[2])), let payload = Self.decode(String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("v1.\(parts[1])".utf8), using: key),
              let claims = try? JSONDecoder().decode(LivenessTokenClaims.self, from: payload)
        else { throw LivenessFailure.tokenInvalid }
        return claims
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
