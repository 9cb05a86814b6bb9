import Foundation
import Synchronization
import SQLKit
import VisageCore
import VisageStore

/// Who signed a request, and what they may do.
public struct Caller: Sendable {
    /// The kind of identity behind the access key.
    public enum Identity: Sendable, Equatable {
        case root
        case user(name: String)
        case assumedRole(roleName: String, roleID: String, sessionName: String)
    }

    public let accountID: String
    public let identity: Identity
    public let accessKeyID: String
    /// The long-term key behind the request: the access key itself, or for a session the key
    /// that called AssumeRole (so a chain of sessions ends with it).
    public let issuerKeyID: String
    public let permissions: Permissions

    /// `acs:ram::ACCOUNT:root`, `…:user/NAME` or `…:assumed-role/ROLE/SESSION`.
    public var arn: String {
        switch identity {
        case .root: "acs:ram::\(accountID):root"
        case let .user(name): "acs:ram::\(accountID):user/\(name)"
        case let .assumedRole(role, _, session): "acs:ram::\(accountID):assumed-role/\(role.lowercased())/\(session)"
        }
    }

    /// Whether the caller may do `request`.
    public func decide(_ request: AccessRequest) -> AccessDecision { permissions.decide(request) }
}

/// Why the credentials of a request were refused; each dialect names these in its own codes.
public enum AuthenticationFailure: Error, Sendable, Equatable {
    case unknownAccessKey(String)
    case inactiveAccessKey(String)
    case tokenMissing
    case tokenMalformed
    case tokenExpired
    case tokenMismatch
    /// The role was deleted or its issuing key disabled after the token was issued.
    case tokenRevoked
}

/// Finds the secret and the caller behind an access key id: a long-term key of the account or
/// of a user, or a temporary `STS.` key with its security token.
public struct CallerResolver: Sendable {
    public let identities: IdentityDirectory
    public let tokens: SessionTokens
    private let recent = RecentCallers()

    public init(identities: IdentityDirectory, tokens: SessionTokens) {
        self.identities = identities
        self.tokens = tokens
    }

    /// The signing secret for `accessKeyID`, and the caller it stands for once the signature is
    /// known to match. A token's integrity and expiry are checked on every call; what the store
    /// says about keys, roles and policies is reused for a few seconds, until any identity
    /// changes through this process (changes made by another process show within that time).
    public func resolve(accessKeyID: String, securityToken: String?, now: Date) async throws -> (secret: String, caller: Caller) {
        let cacheKey = accessKeyID + "\u{0}" + (securityToken ?? "")
        let generation = identities.keys.generation.current
        if let cached = recent.lookup(cacheKey, generation: generation, now: now) {
            if accessKeyID.hasPrefix("STS.") {
                do {
                    _ = try tokens.verify(securityToken ?? "", accessKeyID: accessKeyID, now: now)
                } catch {
                    throw AuthenticationFailure.tokenExpired
                }
            }
            return cached
        }
        let resolved = try await resolveFromStore(accessKeyID: accessKeyID, securityToken: securityToken, now: now)
        recent.store(cacheKey, resolved, generation: generation, now: now)
        return resolved
    }

    private func resolveFromStore(accessKeyID: String, securityToken: String?, now: Date) async throws -> (secret: String, caller: Caller) {
        if accessKeyID.hasPrefix("STS.") {
            guard let securityToken, !securityToken.isEmpty else { throw AuthenticationFailure.tokenMissing }
            let claims: SessionClaims
            do {
                claims = try tokens.verify(securityToken, accessKeyID: accessKeyID, now: now)
            } catch {
                switch error {
                case .malformed: throw AuthenticationFailure.tokenMalformed
                case .expired: throw AuthenticationFailure.tokenExpired
                case .mismatchWithAccessKey: throw AuthenticationFailure.tokenMismatch
                }
            }
            // The token is self-contained; these two lookups only ask whether it was revoked.
            guard let role = try? await identities.role(account: claims.accountID, name: claims.roleName),
                  role.id == claims.roleID,
                  let issuer = try await identities.keys.key(id: claims.issuerKeyID), issuer.status == .active
            else { throw AuthenticationFailure.tokenRevoked }
            var session: PolicyDocument?
            if let text = claims.sessionPolicy { session = try? PolicyDocument.parse(text, maxLength: PolicyDocument.maxSessionPolicyLength) }
            let policies = try await identities.permissions(account: claims.accountID, of: .role, name: role.name)
            let caller = Caller(accountID: claims.accountID,
                                identity: .assumedRole(roleName: role.name, roleID: role.id, sessionName: claims.sessionName),
                                accessKeyID: accessKeyID, issuerKeyID: claims.issuerKeyID,
                                permissions: Permissions(policies: policies, sessionPolicy: session))
            return (tokens.secret(for: accessKeyID), caller)
        }
        guard let key = try await identities.keys.key(id: accessKeyID) else { throw AuthenticationFailure.unknownAccessKey(accessKeyID) }
        guard key.status == .active else { throw AuthenticationFailure.inactiveAccessKey(accessKeyID) }
        if key.principal == "root" {
            return (key.secret, Caller(accountID: key.accountID, identity: .root, accessKeyID: key.id, issuerKeyID: key.id,
                                       permissions: Permissions(isAccountRoot: true)))
        }
        let userName = String(key.principal.dropFirst("user/".count))
        let policies = try await identities.permissions(account: key.accountID, of: .user, name: userName)
        return (key.secret, Caller(accountID: key.accountID, identity: .user(name: userName), accessKeyID: key.id,
                                   issuerKeyID: key.id, permissions: Permissions(policies: policies)))
    }
}

extension CallerResolver {
    /// A user acting through its first active access key, for calls the server makes on a
    /// user's behalf (the upload-token endpoint acts as its configured application user).
    public func caller(account: String, userName: String) async throws -> Caller {
        _ = try await identities.user(account: account, name: userName)
        guard let key = try await identities.keys.keys(accountID: account, principal: "user/\(userName)").first(where: { $0.status == .active })
        else { throw VisageError.notFound(kind: .accessKey, name: userName) }
        return try await resolve(accessKeyID: key.id, securityToken: nil, now: Date()).caller
    }
}

/// Callers resolved in the last few seconds, with the identity generation they were read at.
final class RecentCallers: Sendable {
    struct Entry {
        let secret: String
        let caller: Caller
        let generation: Int
        let until: Date
    }

    static let lifetime: TimeInterval = 5
    static let capacity = 10_000
    private let entries = Mutex<[String: Entry]>([:])

    func lookup(_ key: String, generation: Int, now: Date) -> (secret: String, caller: Caller)? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.generation == generation, entry.until > now else { return nil }
            return (entry.secret, entry.caller)
        }
    }

    func store(_ key: String, _ resolved: (secret: String, caller: Caller), generation: Int, now: Date) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[key] = Entry(secret: resolved.secret, caller: resolved.caller, generation: generation,
                                 until: now.addingTimeInterval(Self.lifetime))
        }
    }
}

/// Signature nonces seen within the clock-skew window; a second use is refused.
public struct NonceLedger: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Records a nonce until `expires`; false when it was already recorded and has not expired.
    public func record(_ nonce: String, expires: Date) async throws -> Bool {
        let now = WallClock.nowMillis()
        let until = Int64(expires.timeIntervalSince1970 * 1000)
        return try await store.withTransaction { db in
            try await db.raw("DELETE FROM signature_nonces WHERE expires_at < \(bind: now)").run()
            guard try await db.raw("SELECT 1 FROM signature_nonces WHERE nonce = \(bind: nonce)").first() == nil else { return false }
            try await db.raw("INSERT INTO signature_nonces (nonce, expires_at) VALUES (\(bind: nonce), \(bind: until))").run()
            return true
        }
    }
}
