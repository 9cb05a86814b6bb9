import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A RAM user of an account.
public struct RAMUser: Sendable, Equatable {
    public let id: String
    public let name: String
    public let displayName: String
    public let comments: String
    public let created: Date
    public let updated: Date
}

/// A RAM role: who may assume it (its trust policy) and for how long.
public struct RAMRole: Sendable, Equatable {
    public let id: String
    public let name: String
    public let accountID: String
    public let trustPolicy: String
    public let description: String
    /// Longest session AssumeRole may grant, in seconds (3600–43200).
    public let maxSessionDuration: Int
    public let created: Date
    public let updated: Date

    /// `acs:ram::ACCOUNT:role/name`, the role name in lower case as RAM writes it.
    public var arn: String { "acs:ram::\(accountID):role/\(name.lowercased())" }
}

/// A policy: built in (`System`) or written by the account (`Custom`).
public struct RAMPolicy: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case system = "System", custom = "Custom" }

    public let name: String
    public let kind: Kind
    public let description: String
    public let document: String
    public let created: Date
    public let updated: Date
}

/// Which kind of identity a policy is attached to.
public enum PrincipalKind: String, Sendable {
    case user = "User", role = "Role"

    /// What an attachment of a policy to this kind of principal is called in errors.
    var attachmentKind: ResourceKind { self == .user ? .userPolicy : .rolePolicy }
}

/// Users, roles, policies and their attachments, per account, in the metadata store.
public struct IdentityDirectory: Sendable {
    let store: MetadataStore
    public let keys: AccessKeyDirectory

    /// Each user may hold at most this many access keys, as in RAM.
    public static let maxKeysPerUser = 2

    public init(store: MetadataStore, keys: AccessKeyDirectory) {
        self.store = store
        self.keys = keys
    }

    // MARK: Users

    public func createUser(account: String, name: String, displayName: String?, comments: String?) async throws -> RAMUser {
        defer { keys.generation.bump() }
        try Names.check(name, field: "UserName", pattern: "-_.@", max: 64)
        let now = WallClock.nowMillis()
        let user = RAMUser(id: Identifiers.numericID(), name: name, displayName: displayName ?? name, comments: comments ?? "",
                           created: WallClock.date(millis: now), updated: WallClock.date(millis: now))
        try await store.withTransaction { db in
            guard try await db.raw("SELECT 1 FROM ram_users WHERE account_id = \(bind: account) AND name = \(bind: name)").first() == nil
            else { throw VisageError.conflict(kind: .user, name: name, message: "The user \(name) already exists.") }
            try await db.raw("""
                INSERT INTO ram_users (account_id, name, id, display_name, comments, created_at, updated_at)
                VALUES (\(bind: account), \(bind: name), \(bind: user.id), \(bind: user.displayName), \(bind: user.comments),
                        \(bind: now), \(bind: now))
                """).run()
        }
        return user
    }

    public func user(account: String, name: String) async throws -> RAMUser {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT * FROM ram_users WHERE account_id = \(bind: account) AND name = \(bind: name)").first()
        }
        guard let row else { throw VisageError.notFound(kind: .user, name: name) }
        return try Self.user(row)
    }

    public func users(account: String) async throws -> [RAMUser] {
        try await store.withConnection { db in
            try await db.raw("SELECT * FROM ram_users WHERE account_id = \(bind: account) ORDER BY name").all()
        }.map(Self.user)
    }

    /// Deletes a user that holds no access keys and no policies, as RAM requires.
    public func deleteUser(account: String, name: String) async throws {
        defer { keys.generation.bump() }
        _ = try await user(account: account, name: name)
        guard try await keys.keys(accountID: account, principal: "user/\(name)").isEmpty else {
            throw VisageError.inUse(kind: .user, by: .accessKey, name: name, message: "The user \(name) still has access keys.")
        }
        guard try await attachedPolicies(account: account, to: .user, name: name).isEmpty else {
            throw VisageError.inUse(kind: .user, by: .policy, name: name, message: "The user \(name) still has policies attached.")
        }
        try await store.withConnection { db in
            try await db.raw("DELETE FROM ram_users WHERE account_id = \(bind: account) AND name = \(bind: name)").run()
        }
    }

    public func createAccessKey(account: String, userName: String) async throws -> AccessKey {
        _ = try await user(account: account, name: userName)
        let principal = "user/\(userName)"
        guard try await keys.keys(accountID: account, principal: principal).count < Self.maxKeysPerUser else {
            throw VisageError.limitExceeded(kind: .accessKey, owner: .user, name: userName,
                                       message: "The user \(userName) already has \(Self.maxKeysPerUser) access keys.")
        }
        let key = AccessKey(id: Identifiers.accessKeyID(), secret: Identifiers.accessKeySecret(), accountID: account,
                            principal: principal, status: .active, created: Date())
        try await keys.put(key)
        return key
    }

    /// Turns a user's access key (or the account's, when `userName` is nil) on or off. Requests
    /// signed with an inactive key are refused, and so are the temporary credentials it obtained.
    public func setAccessKeyStatus(account: String, userName: String?, id: String, status: AccessKey.Status) async throws {
        let key = try await accessKey(account: account, userName: userName, id: id)
        try await keys.put(AccessKey(id: key.id, secret: key.secret, accountID: key.accountID, principal: key.principal,
                                     status: status, created: key.created))
    }

    /// The access key `id` of a user (or of the account itself when `userName` is nil).
    public func accessKey(account: String, userName: String?, id: String) async throws -> AccessKey {
        guard let key = try await keys.key(id: id), key.accountID == account,
              key.principal == (userName.map { "user/\($0)" } ?? "root")
        else { throw VisageError.notFound(kind: .accessKey, name: id) }
        return key
    }

    // MARK: Roles

    public func createRole(account: String, name: String, trustPolicy: String, description: String?,
                           maxSessionDuration: Int?) async throws -> RAMRole {
        defer { keys.generation.bump() }
        try Names.check(name, field: "RoleName", pattern: "-_.", max: 64)
        do {
            _ = try PolicyDocument.parse(trustPolicy, kind: .trust)
        } catch let error as PolicyError {
            throw VisageError.malformedPolicy(field: "AssumeRolePolicyDocument", message: error.description)
        }
        let duration = maxSessionDuration ?? 3600
        guard (3600...43200).contains(duration) else {
            throw VisageError.invalidArgument(field: "MaxSessionDuration", message: "must be between 3600 and 43200 seconds")
        }
        let now = WallClock.nowMillis()
        let role = RAMRole(id: Identifiers.numericID(), name: name, accountID: account, trustPolicy: trustPolicy,
                           description: description ?? "", maxSessionDuration: duration,
                           created: WallClock.date(millis: now), updated: WallClock.date(millis: now))
        try await store.withTransaction { db in
            guard try await db.raw("""
                SELECT 1 FROM ram_roles WHERE account_id = \(bind: account) AND name_key = \(bind: name.lowercased())
                """).first() == nil
            else { throw VisageError.conflict(kind: .role, name: name, message: "The role \(name) already exists.") }
            try await db.raw("""
                INSERT INTO ram_roles (account_id, name_key, name, id, trust_policy, description, max_session_duration,
                                       created_at, updated_at)
                VALUES (\(bind: account), \(bind: name.lowercased()), \(bind: name), \(bind: role.id), \(bind: trustPolicy),
                        \(bind: role.description), \(bind: duration), \(bind: now), \(bind: now))
                """).run()
        }
        return role
    }

    /// A role by name, compared without regard to case as role ARNs are.
    public func role(account: String, name: String) async throws -> RAMRole {
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM ram_roles WHERE account_id = \(bind: account) AND name_key = \(bind: name.lowercased())
                """).first()
        }
        guard let row else { throw VisageError.notFound(kind: .role, name: name) }
        return try Self.role(row)
    }

    public func roles(account: String) async throws -> [RAMRole] {
        try await store.withConnection { db in
            try await db.raw("SELECT * FROM ram_roles WHERE account_id = \(bind: account) ORDER BY name_key").all()
        }.map(Self.role)
    }

    /// Deletes a role with no policies attached, as RAM requires. Tokens issued for it stop
    /// working, because they carry the id of the role they were issued for.
    public func deleteRole(account: String, name: String) async throws {
        defer { keys.generation.bump() }
        let role = try await role(account: account, name: name)
        guard try await attachedPolicies(account: account, to: .role, name: role.name).isEmpty else {
            throw VisageError.inUse(kind: .role, by: .policy, name: name, message: "The role \(name) still has policies attached.")
        }
        try await store.withConnection { db in
            try await db.raw("DELETE FROM ram_roles WHERE account_id = \(bind: account) AND name_key = \(bind: name.lowercased())").run()
        }
    }

    // MARK: Policies

    public func createPolicy(account: String, name: String, document: String, description: String?) async throws -> RAMPolicy {
        defer { keys.generation.bump() }
        try Names.check(name, field: "PolicyName", pattern: "-", max: 128)
        guard SystemPolicies.named(name) == nil else {
            throw VisageError.conflict(kind: .policy, name: name, message: "\(name) is the name of a system policy.")
        }
        do {
            _ = try PolicyDocument.parse(document)
        } catch let error as PolicyError {
            throw VisageError.malformedPolicy(field: "PolicyDocument", message: error.description)
        }
        let now = WallClock.nowMillis()
        try await store.withTransaction { db in
            guard try await db.raw("SELECT 1 FROM ram_policies WHERE account_id = \(bind: account) AND name = \(bind: name)").first() == nil
            else { throw VisageError.conflict(kind: .policy, name: name, message: "The policy \(name) already exists.") }
            try await db.raw("""
                INSERT INTO ram_policies (account_id, name, document, description, created_at, updated_at)
                VALUES (\(bind: account), \(bind: name), \(bind: document), \(bind: description ?? ""), \(bind: now), \(bind: now))
                """).run()
        }
        return RAMPolicy(name: name, kind: .custom, description: description ?? "", document: document,
                         created: WallClock.date(millis: now), updated: WallClock.date(millis: now))
    }

    public func policy(account: String, name: String, kind: RAMPolicy.Kind) async throws -> RAMPolicy {
        switch kind {
        case .system:
            guard let system = SystemPolicies.named(name) else { throw VisageError.notFound(kind: .policy, name: name) }
            let epoch = Date(timeIntervalSince1970: 0)
            return RAMPolicy(name: system.name, kind: .system, description: system.description, document: system.document,
                             created: epoch, updated: epoch)
        case .custom:
            let row = try await store.withConnection { db in
                try await db.raw("SELECT * FROM ram_policies WHERE account_id = \(bind: account) AND name = \(bind: name)").first()
            }
            guard let row else { throw VisageError.notFound(kind: .policy, name: name) }
            return try Self.policy(row)
        }
    }

    /// System policies first, then the account's own, each by name.
    public func policies(account: String, kind: RAMPolicy.Kind? = nil) async throws -> [RAMPolicy] {
        var result: [RAMPolicy] = []
        if kind != .custom {
            for system in SystemPolicies.all { result.append(try await policy(account: account, name: system.name, kind: .system)) }
        }
        if kind != .system {
            result += try await store.withConnection { db in
                try await db.raw("SELECT * FROM ram_policies WHERE account_id = \(bind: account) ORDER BY name").all()
            }.map(Self.policy)
        }
        return result
    }

    /// Deletes a custom policy that is attached to no one.
    public func deletePolicy(account: String, name: String) async throws {
        defer { keys.generation.bump() }
        _ = try await policy(account: account, name: name, kind: .custom)
        try await store.withTransaction { db in
            guard try await db.raw("""
                SELECT 1 FROM ram_attachments WHERE account_id = \(bind: account) AND policy_type = 'Custom' AND policy_name = \(bind: name)
                """).first() == nil
            else { throw VisageError.inUse(kind: .policy, by: .policyAttachment, name: name, message: "The policy \(name) is still attached.") }
            try await db.raw("DELETE FROM ram_policies WHERE account_id = \(bind: account) AND name = \(bind: name)").run()
        }
    }

    // MARK: Attachments

    public func attach(account: String, policy name: String, kind: RAMPolicy.Kind, to principal: PrincipalKind,
                       named principalName: String) async throws {
        defer { keys.generation.bump() }
        _ = try await policy(account: account, name: name, kind: kind)
        let canonical = try await canonicalName(account: account, principal, principalName)
        try await store.withTransaction { db in
            guard try await db.raw("""
                SELECT 1 FROM ram_attachments WHERE account_id = \(bind: account) AND principal_type = \(bind: principal.rawValue)
                  AND principal_name = \(bind: canonical) AND policy_type = \(bind: kind.rawValue) AND policy_name = \(bind: name)
                """).first() == nil
            else {
                throw VisageError.conflict(kind: principal.attachmentKind, name: name,
                                           message: "The policy \(name) is already attached to \(principalName).")
            }
            try await db.raw("""
                INSERT INTO ram_attachments (account_id, principal_type, principal_name, policy_type, policy_name, attached_at)
                VALUES (\(bind: account), \(bind: principal.rawValue), \(bind: canonical), \(bind: kind.rawValue), \(bind: name),
                        \(bind: WallClock.nowMillis()))
                """).run()
        }
    }

    public func detach(account: String, policy name: String, kind: RAMPolicy.Kind, from principal: PrincipalKind,
                       named principalName: String) async throws {
        defer { keys.generation.bump() }
        let canonical = try await canonicalName(account: account, principal, principalName)
        let removed = try await store.withTransaction { db in
            let existing = try await db.raw("""
                SELECT 1 FROM ram_attachments WHERE account_id = \(bind: account) AND principal_type = \(bind: principal.rawValue)
                  AND principal_name = \(bind: canonical) AND policy_type = \(bind: kind.rawValue) AND policy_name = \(bind: name)
                """).first()
            try await db.raw("""
                DELETE FROM ram_attachments WHERE account_id = \(bind: account) AND principal_type = \(bind: principal.rawValue)
                  AND principal_name = \(bind: canonical) AND policy_type = \(bind: kind.rawValue) AND policy_name = \(bind: name)
                """).run()
            return existing != nil
        }
        guard removed else { throw VisageError.notFound(kind: principal.attachmentKind, name: name) }
    }

    /// The policies attached to a user or role, with when they were attached.
    public func attachedPolicies(account: String, to principal: PrincipalKind, name: String) async throws
        -> [(policy: RAMPolicy, attached: Date)]
    {
        let canonical = principal == .role ? name.lowercased() : name
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT policy_type, policy_name, attached_at FROM ram_attachments
                WHERE account_id = \(bind: account) AND principal_type = \(bind: principal.rawValue)
                  AND principal_name = \(bind: canonical) ORDER BY policy_type DESC, policy_name
                """).all()
        }
        var result: [(RAMPolicy, Date)] = []
        for row in rows {
            let kind = RAMPolicy.Kind(rawValue: try row.decode(column: "policy_type", as: String.self)) ?? .custom
            let policy = try await policy(account: account, name: try row.decode(column: "policy_name", as: String.self), kind: kind)
            result.append((policy, WallClock.date(millis: try row.decode(column: "attached_at", as: Int64.self))))
        }
        return result
    }

    /// The parsed documents of every policy attached to a user or role.
    public func permissions(account: String, of principal: PrincipalKind, name: String) async throws -> [PolicyDocument] {
        try await attachedPolicies(account: account, to: principal, name: name).map { try PolicyDocument.parse($0.policy.document) }
    }

    /// Users are named exactly; roles without regard to case.
    private func canonicalName(account: String, _ principal: PrincipalKind, _ name: String) async throws -> String {
        switch principal {
        case .user: return try await user(account: account, name: name).name
        case .role: return try await role(account: account, name: name).name.lowercased()
        }
    }

    // MARK: Rows

    static func user(_ row: any SQLRow) throws -> RAMUser {
        RAMUser(id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
                displayName: try row.decode(column: "display_name", as: String.self),
                comments: try row.decode(column: "comments", as: String.self),
                created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
                updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }

    static func role(_ row: any SQLRow) throws -> RAMRole {
        RAMRole(id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
                accountID: try row.decode(column: "account_id", as: String.self),
                trustPolicy: try row.decode(column: "trust_policy", as: String.self),
                description: try row.decode(column: "description", as: String.self),
                maxSessionDuration: try row.decode(column: "max_session_duration", as: Int.self),
                created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
                updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }

    static func policy(_ row: any SQLRow) throws -> RAMPolicy {
        RAMPolicy(name: try row.decode(column: "name", as: String.self), kind: .custom,
                  description: try row.decode(column: "description", as: String.self),
                  document: try row.decode(column: "document", as: String.self),
                  created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
                  updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}

/// Name rules of RAM identities: letters, digits and a few punctuation marks, bounded length.
enum Names {
    static func check(_ name: String, field: String, pattern extra: String, max: Int) throws {
        let allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
            .union(CharacterSet(charactersIn: extra))
        guard !name.isEmpty, name.count <= max, name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw VisageError.invalidArgument(
                field: field, message: "must be 1 to \(max) characters of letters, digits and \"\(extra)\"")
        }
    }
}
