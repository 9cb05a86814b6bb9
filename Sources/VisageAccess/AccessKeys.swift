import Foundation
import Synchronization
import SQLKit
import VisageCore
import VisageStore

/// An access key pair and whose it is.
public struct AccessKey: Sendable, Equatable {
    public enum Status: String, Sendable { case active = "Active", inactive = "Inactive" }

    public let id: String
    public let secret: String
    public let accountID: String
    /// `root` for the account itself, `user/NAME` for a user.
    public let principal: String
    public let status: Status
    public let created: Date
}

/// A counter bumped by every change to keys, users, roles, policies or attachments made through
/// this process, so that caches of who may do what know when to forget.
public final class IdentityGeneration: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    public var current: Int { value.load(ordering: .acquiring) }

    func bump() { value.add(1, ordering: .releasing) }
}

/// Accounts and access keys in the metadata store; secrets are sealed at rest.
public struct AccessKeyDirectory: Sendable {
    let store: MetadataStore
    let box: SecretBox
    /// Shared by everything built on this directory (the identity directory, caller caches).
    public let generation = IdentityGeneration()

    public init(store: MetadataStore, box: SecretBox) {
        self.store = store
        self.box = box
    }

    public func createAccount(id: String, name: String) async throws {
        try await store.withConnection { db in
            try await db.raw("""
                INSERT INTO accounts (id, name, created_at) VALUES (\(bind: id), \(bind: name), \(bind: WallClock.nowMillis()))
                """).run()
        }
    }

    public func accountIDs() async throws -> [String] {
        try await store.withConnection { db in
            try await db.raw("SELECT id FROM accounts ORDER BY created_at, id").all()
        }.map { try $0.decode(column: "id", as: String.self) }
    }

    /// Stores a key pair; replaces the secret and status if the id exists.
    public func put(_ key: AccessKey) async throws {
        defer { generation.bump() }
        let sealed = try box.seal(key.secret, boundTo: key.id)
        let created = Int64((key.created.timeIntervalSince1970 * 1000).rounded())
        try await store.withConnection { db in
            try await db.raw("""
                INSERT INTO access_keys (id, account_id, principal, secret_sealed, status, created_at)
                VALUES (\(bind: key.id), \(bind: key.accountID), \(bind: key.principal), \(bind: sealed),
                        \(bind: key.status.rawValue), \(bind: created))
                ON CONFLICT (id) DO UPDATE SET secret_sealed = excluded.secret_sealed, status = excluded.status
                """).run()
        }
    }

    public func key(id: String) async throws -> AccessKey? {
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT id, account_id, principal, secret_sealed, status, created_at FROM access_keys WHERE id = \(bind: id)
                """).first()
        }
        return try row.map(decode)
    }

    public func keys(accountID: String, principal: String) async throws -> [AccessKey] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT id, account_id, principal, secret_sealed, status, created_at FROM access_keys
                WHERE account_id = \(bind: accountID) AND principal = \(bind: principal) ORDER BY created_at, id
                """).all()
        }.map(decode)
    }

    public func delete(id: String) async throws {
        defer { generation.bump() }
        try await store.withConnection { db in
            try await db.raw("DELETE FROM access_keys WHERE id = \(bind: id)").run()
        }
    }

    private func decode(_ row: any SQLRow) throws -> AccessKey {
        let id = try row.decode(column: "id", as: String.self)
        return AccessKey(
            id: id,
            secret: try box.open(try row.decode(column: "secret_sealed", as: String.self), boundTo: id),
            accountID: try row.decode(column: "account_id", as: String.self),
            principal: try row.decode(column: "principal", as: String.self),
            status: AccessKey.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .inactive,
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }
}
