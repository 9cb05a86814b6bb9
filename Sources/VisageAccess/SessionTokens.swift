import Crypto
import Foundation
import VisageCore

/// What a temporary credential stands for: a session of a role, assumed by someone, until a
/// time, optionally narrowed by a session policy.
public struct SessionClaims: Codable, Sendable, Equatable {
    /// The temporary access key id (`STS.…`) the token belongs to.
    public var accessKeyID: String
    public var accountID: String
    public var roleName: String
    /// The id of the role when the token was issued: a role deleted and created again under the
    /// same name does not revive old tokens.
    public var roleID: String
    public var sessionName: String
    /// The long-term access key that called AssumeRole; disabling it ends the session.
    public var issuerKeyID: String
    public var sessionPolicy: String?
    /// Seconds since 1970.
    public var issuedAt: Int64
    public var expiresAt: Int64

    public init(accessKeyID: String = "", accountID: String, roleName: String, roleID: String, sessionName: String,
                issuerKeyID: String, sessionPolicy: String?, issuedAt: Int64, expiresAt: Int64) {
        self.accessKeyID = accessKeyID
        self.accountID = accountID
        self.roleName = roleName
        self.roleID = roleID
        self.sessionName = sessionName
        self.issuerKeyID = issuerKeyID
        self.sessionPolicy = sessionPolicy
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    public var expiration: Date { Date(timeIntervalSince1970: TimeInterval(expiresAt)) }
}

/// Issues and checks self-contained temporary credentials. The security token carries the
/// claims and an HMAC over them; the secret is an HMAC of the access key id. So a request signed
/// with temporary credentials is checked without looking anything up; whether the role and
/// the issuing key still exist is left to the caller.
public struct SessionTokens: Sendable {
    /// Why a token was refused.
    public enum Failure: Error, Sendable, Equatable {
        case malformed, expired, mismatchWithAccessKey
    }

    static let prefix = "VST1"
    private let signingKey: SymmetricKey
    private let secretKey: SymmetricKey

    public init(box: SecretBox) {
        signingKey = box.derivedKey(purpose: "visage sts token signature")
        secretKey = box.derivedKey(purpose: "visage sts access key secret")
    }

    /// A new access key id, secret and security token for the claims (its `accessKeyID` is
    /// filled in here).
    public func issue(_ claims: SessionClaims) throws -> (accessKeyID: String, secret: String, token: String, claims: SessionClaims) {
        var claims = claims
        claims.accessKeyID = Identifiers.temporaryAccessKeyID()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Base64URL.encode(try encoder.encode(claims))
        let tag = Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: signingKey)))
        return (claims.accessKeyID, secret(for: claims.accessKeyID), "\(Self.prefix).\(payload).\(tag)", claims)
    }

    /// The secret of a temporary access key id.
    public func secret(for accessKeyID: String) -> String {
        Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(accessKeyID.utf8), using: secretKey)))
    }

    /// Checks a token's integrity, that it belongs to `accessKeyID`, and that it has not expired.
    public func verify(_ token: String, accessKeyID: String, now: Date) throws(Failure) -> SessionClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, let tag = Base64URL.decode(String(parts[2])) else { throw .malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: Data(parts[1].utf8), using: signingKey),
              let payload = Base64URL.decode(String(parts[1])),
              let claims = try? JSONDecoder().decode(SessionClaims.self, from: payload)
        else { throw .malformed }
        guard claims.accessKeyID == accessKeyID else { throw .mismatchWithAccessKey }
        guard Double(claims.expiresAt) > now.timeIntervalSince1970 else { throw .expired }
        return claims
    }
}

/// Base64 with the URL-safe alphabet and no padding.
public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base += String(repeating: "=", count: (4 - base.count % 4) % 4)
        return Data(base64Encoded: base)
    }
}
