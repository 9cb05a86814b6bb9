import Crypto
import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A key that a client presents whole in a header, with no signature: what services that
/// authenticate by subscription key expect. It acts as the account or the user it is bound to, so
/// the same policies govern it; `service` names the API it is good for.
public struct APIKey: Sendable, Equatable {
    /// The key's lookup id: a hash of the key itself, never the key.
    public let id: String
    public let accountID: String
    /// `root` for the account itself, `user/NAME` for a user.
    public let principal: String
    public let service: String
    public let status: AccessKey.Status
    public let created: Date
}

/// API keys in the metadata store. The key's plain text is sealed at rest like an access key
/// secret; a request's key is found by its SHA-256 and then compared with the sealed one.
public struct APIKeyDirectory: Sendable {
    let store: MetadataStore
    let box: SecretBox
    let identities: IdentityDirectory

    public init(store: MetadataStore, box: SecretBox, identities: IdentityDirectory) {
        self.store = store
        self.box = box
        self.identities = identities
    }

    /// The lookup id of a key's plain text.
    public static func lookupID(of key: String) -> String {
        String(Array(SHA256.hash(data: Data(key.utf8))).hexString.prefix(32))
    }

    /// A new key for `principal` (`root` or `user/NAME`); its plain text is returned only now.
    public func create(account: String, principal: String, service: String) async throws -> (key: APIKey, plainText: String) {
        if principal != "root" {
            guard principal.hasPrefix("user/") else { throw VisageError.invalidArgument(field: "principal", message: "root or user/NAME") }
            _ = try await identities.user(account: account, name: String(principal.dropFirst("user/".count)))
        }
        // 128 random bits as 32 hex digits, the shape of the keys such services hand out.
        let plain = Identifiers.opaque()
        return (try await put(plain, account: account, principal: principal, service: service), plain)
    }

    /// Stores a key given in full (the start-up key from the environment); an existing key with
    /// the same text is bound again to `principal`.
    @discardableResult
    public func put(_ plainText: String, account: String, principal: String, service: String) async throws -> APIKey {
        defer { identities.keys.generation.bump() }
        let id = Self.lookupID(of: plainText)
        let sealed = try box.seal(plainText, boundTo: id)
        let now = WallClock.nowMillis()
        try await store.withConnection { db in
            try await db.raw("""
                INSERT INTO api_keys (id, account_id, principal, service, key_sealed, status, created_at)
                VALUES (\(bind: id), \(bind: account), \(bind: principal), \(bind: service), \(bind: sealed),
                        \(bind: AccessKey.Status.active.rawValue), \(bind: now))
                ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, principal = excluded.principal,
                    service = excluded.service, status = excluded.status
                """).run()
        }
        return APIKey(id: id, accountID: account, principal: principal, service: service, status: .active,
                      created: WallClock.date(millis: now))
    }

    public func keys(account: String, service: String) async throws -> [APIKey] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT id, account_id, principal, service, status, created_at FROM api_keys
                WHERE account_id = \(bind: account) AND service = \(bind: service) ORDER BY created_at, id
                """).all()
        }.map(decode)
    }

    public func setStatus(account: String, id: String, status: AccessKey.Status) async throws {
        defer { identities.keys.generation.bump() }
        let changed = try await store.withConnection { db in
            try await db.raw("""
                UPDATE api_keys SET status = \(bind: status.rawValue) WHERE id = \(bind: id) AND account_id = \(bind: account)
                RETURNING id
                """).all()
        }
        guard !changed.isEmpty else { throw VisageError.notFound(kind: .accessKey, name: id) }
    }

    public func delete(account: String, id: String) async throws {
        defer { identities.keys.generation.bump() }
        let removed = try await store.withConnection { db in
            try await db.raw("DELETE FROM api_keys WHERE id = \(bind: id) AND account_id = \(bind: account) RETURNING id").all()
        }
        guard !removed.isEmpty else { throw VisageError.notFound(kind: .accessKey, name: id) }
    }

    /// The caller a presented key stands for, when it is an active key for `service`.
    public func caller(presenting plainText: String, service: String) async throws -> Caller {
        guard !plainText.isEmpty, plainText.utf8.count <= 256 else { throw AuthenticationFailure.unknownAccessKey("") }
        let id = Self.lookupID(of: plainText)
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT id, account_id, principal, service, key_sealed, status, created_at FROM api_keys WHERE id = \(bind: id)
                """).first()
        }
        guard let row, let sealed = try? row.decode(column: "key_sealed", as: String.self),
              let stored = try? box.open(sealed, boundTo: id),
              Data(stored.utf8).withUnsafeBytes({ a in Data(plainText.utf8).withUnsafeBytes { b in constantTimeEquals(a, b) } })
        else { throw AuthenticationFailure.unknownAccessKey(id) }
        let key = try decode(row)
        guard key.service == service else { throw AuthenticationFailure.unknownAccessKey(id) }
        guard key.status == .active else { throw AuthenticationFailure.inactiveAccessKey(id) }
        if key.principal == "root" {
            return Caller(accountID: key.accountID, identity: .root, accessKeyID: id, issuerKeyID: id,
                          permissions: Permissions(isAccountRoot: true))
        }
        let userName = String(key.principal.dropFirst("user/".count))
        // A key of a deleted user opens nothing.
        guard (try? await identities.user(account: key.accountID, name: userName)) != nil else {
            throw AuthenticationFailure.unknownAccessKey(id)
        }
        let policies = try await identities.permissions(account: key.accountID, of: .user, name: userName)
        return Caller(accountID: key.accountID, identity: .user(name: userName), accessKeyID: id, issuerKeyID: id,
                      permissions: Permissions(policies: policies))
    }

    private func decode(_ row: any SQLRow) throws -> APIKey {
        APIKey(id: try row.decode(column: "id", as: String.self),
               accountID: try row.decode(column: "account_id", as: String.self),
               principal: try row.decode(column: "principal", as: String.self),
               service: try row.decode(column: "service", as: String.self),
               status: AccessKey.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .inactive,
               created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }
}

/// Compares two byte strings in time that depends on their length only.
func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}
