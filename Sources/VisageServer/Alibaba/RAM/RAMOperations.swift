import Foundation
import VisageAccess
import VisageCore

/// The RAM API subset (Version 2015-05-01) that the official `alibabacloud-ram20150501` SDK
/// calls for users, access keys, roles, policies and attachments. Each operation parses its
/// parameters, authorizes `ram:<Action>` on the identity it touches, and calls the directory.
struct RAMOperations: Sendable {
    let identities: IdentityDirectory
    static let version = "2015-05-01"

    func register(in router: inout RPCRouter) {
        let table: [(String, @Sendable (RAMOperations, RPCCall) async throws -> [String: any Sendable])] = [
            ("CreateUser", { try await $0.createUser($1) }),
            ("GetUser", { try await $0.getUser($1) }),
            ("ListUsers", { try await $0.listUsers($1) }),
            ("DeleteUser", { try await $0.deleteUser($1) }),
            ("CreateAccessKey", { try await $0.createAccessKey($1) }),
            ("DeleteAccessKey", { try await $0.deleteAccessKey($1) }),
            ("UpdateAccessKey", { try await $0.updateAccessKey($1) }),
            ("ListAccessKeys", { try await $0.listAccessKeys($1) }),
            ("CreateRole", { try await $0.createRole($1) }),
            ("GetRole", { try await $0.getRole($1) }),
            ("ListRoles", { try await $0.listRoles($1) }),
            ("DeleteRole", { try await $0.deleteRole($1) }),
            ("CreatePolicy", { try await $0.createPolicy($1) }),
            ("GetPolicy", { try await $0.getPolicy($1) }),
            ("ListPolicies", { try await $0.listPolicies($1) }),
            ("DeletePolicy", { try await $0.deletePolicy($1) }),
            ("AttachPolicyToUser", { try await $0.attach($1, .user) }),
            ("AttachPolicyToRole", { try await $0.attach($1, .role) }),
            ("DetachPolicyFromUser", { try await $0.detach($1, .user) }),
            ("DetachPolicyFromRole", { try await $0.detach($1, .role) }),
            ("ListPoliciesForUser", { try await $0.listPolicies($1, for: .user) }),
            ("ListPoliciesForRole", { try await $0.listPolicies($1, for: .role) }),
        ]
        router.register(version: Self.version, self, table, errors: Self.wireError)
    }

    // MARK: Users and keys

    func createUser(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("UserName")
        try authorize(call, "CreateUser", "user/\(name)")
        let user = try await identities.createUser(account: call.caller.accountID, name: name,
                                                   displayName: call.optional("DisplayName"), comments: call.optional("Comments"))
        return ["User": Self.user(user)]
    }

    func getUser(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("UserName")
        try authorize(call, "GetUser", "user/\(name)")
        return ["User": Self.user(try await identities.user(account: call.caller.accountID, name: name))]
    }

    func listUsers(_ call: RPCCall) async throws -> [String: any Sendable] {
        try authorize(call, "ListUsers", "user/*")
        let users = try await identities.users(account: call.caller.accountID)
        return ["IsTruncated": false, "Users": ["User": users.map(Self.user)]]
    }

    func deleteUser(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("UserName")
        try authorize(call, "DeleteUser", "user/\(name)")
        try await identities.deleteUser(account: call.caller.accountID, name: name)
        return [:]
    }

    /// The user a key operation is about: the named one, or the caller itself when it is a user.
    func keyOwner(_ call: RPCCall) -> String? {
        if let name = call.optional("UserName") { return name }
        if case let .user(name) = call.caller.identity { return name }
        return nil
    }

    func createAccessKey(_ call: RPCCall) async throws -> [String: any Sendable] {
        guard let name = keyOwner(call) else { throw call.missing("UserName") }
        try authorize(call, "CreateAccessKey", "user/\(name)")
        let key = try await identities.createAccessKey(account: call.caller.accountID, userName: name)
        return ["AccessKey": ["AccessKeyId": key.id, "AccessKeySecret": key.secret, "Status": key.status.rawValue,
                              "CreateDate": Self.time(key.created)]]
    }

    func deleteAccessKey(_ call: RPCCall) async throws -> [String: any Sendable] {
        let keyID = try call.required("UserAccessKeyId")
        let owner = keyOwner(call)
        try authorize(call, "DeleteAccessKey", "user/\(owner ?? "*")")
        let key = try await identities.accessKey(account: call.caller.accountID, userName: owner, id: keyID)
        try await identities.keys.delete(id: key.id)
        return [:]
    }

    /// `Status` `Active` or `Inactive`; an inactive key signs nothing, and the temporary
    /// credentials it obtained stop working with it.
    func updateAccessKey(_ call: RPCCall) async throws -> [String: any Sendable] {
        let keyID = try call.required("UserAccessKeyId")
        let owner = keyOwner(call)
        try authorize(call, "UpdateAccessKey", "user/\(owner ?? "*")")
        guard let status = AccessKey.Status(rawValue: try call.required("Status")) else {
            throw WireError(status: .badRequest, code: "InvalidParameter.Status", message: "Status must be Active or Inactive.")
        }
        try await identities.setAccessKeyStatus(account: call.caller.accountID, userName: owner, id: keyID, status: status)
        return [:]
    }

    func listAccessKeys(_ call: RPCCall) async throws -> [String: any Sendable] {
        let owner = keyOwner(call)
        try authorize(call, "ListAccessKeys", "user/\(owner ?? "*")")
        if let owner { _ = try await identities.user(account: call.caller.accountID, name: owner) }
        let keys = try await identities.keys.keys(accountID: call.caller.accountID, principal: owner.map { "user/\($0)" } ?? "root")
        return ["AccessKeys": ["AccessKey": keys.map {
            ["AccessKeyId": $0.id, "Status": $0.status.rawValue, "CreateDate": Self.time($0.created)] as [String: any Sendable]
        }]]
    }

    // MARK: Roles

    func createRole(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("RoleName")
        try authorize(call, "CreateRole", "role/\(name)")
        let role = try await identities.createRole(
            account: call.caller.accountID, name: name, trustPolicy: try call.required("AssumeRolePolicyDocument"),
            description: call.optional("Description"), maxSessionDuration: try call.integer("MaxSessionDuration"))
        return ["Role": Self.role(role)]
    }

    func getRole(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("RoleName")
        try authorize(call, "GetRole", "role/\(name)")
        return ["Role": Self.role(try await identities.role(account: call.caller.accountID, name: name))]
    }

    func listRoles(_ call: RPCCall) async throws -> [String: any Sendable] {
        try authorize(call, "ListRoles", "role/*")
        let roles = try await identities.roles(account: call.caller.accountID)
        return ["IsTruncated": false, "Roles": ["Role": roles.map(Self.role)]]
    }

    func deleteRole(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("RoleName")
        try authorize(call, "DeleteRole", "role/\(name)")
        try await identities.deleteRole(account: call.caller.accountID, name: name)
        return [:]
    }

    // MARK: Policies

    func createPolicy(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("PolicyName")
        try authorize(call, "CreatePolicy", "policy/\(name)")
        let policy = try await identities.createPolicy(account: call.caller.accountID, name: name,
                                                       document: try call.required("PolicyDocument"),
                                                       description: call.optional("Description"))
        return ["Policy": Self.policy(policy, withDocument: false)]
    }

    func getPolicy(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("PolicyName")
        try authorize(call, "GetPolicy", "policy/\(name)")
        let policy = try await identities.policy(account: call.caller.accountID, name: name, kind: try kind(call, required: true)!)
        return ["Policy": Self.policy(policy, withDocument: true),
                "DefaultPolicyVersion": ["VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": policy.document,
                                         "CreateDate": Self.time(policy.created)] as [String: any Sendable]]
    }

    func listPolicies(_ call: RPCCall) async throws -> [String: any Sendable] {
        try authorize(call, "ListPolicies", "policy/*")
        let policies = try await identities.policies(account: call.caller.accountID, kind: try kind(call, required: false))
        return ["IsTruncated": false, "Policies": ["Policy": policies.map { Self.policy($0, withDocument: false) }]]
    }

    func deletePolicy(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("PolicyName")
        try authorize(call, "DeletePolicy", "policy/\(name)")
        try await identities.deletePolicy(account: call.caller.accountID, name: name)
        return [:]
    }

    func attach(_ call: RPCCall, _ principal: PrincipalKind) async throws -> [String: any Sendable] {
        let (policy, kind, target) = try attachment(call, principal)
        try authorize(call, "AttachPolicyTo\(principal.rawValue)", "\(principal.rawValue.lowercased())/\(target)")
        try await identities.attach(account: call.caller.accountID, policy: policy, kind: kind, to: principal, named: target)
        return [:]
    }

    func detach(_ call: RPCCall, _ principal: PrincipalKind) async throws -> [String: any Sendable] {
        let (policy, kind, target) = try attachment(call, principal)
        try authorize(call, "DetachPolicyFrom\(principal.rawValue)", "\(principal.rawValue.lowercased())/\(target)")
        try await identities.detach(account: call.caller.accountID, policy: policy, kind: kind, from: principal, named: target)
        return [:]
    }

    func listPolicies(_ call: RPCCall, for principal: PrincipalKind) async throws -> [String: any Sendable] {
        let target = try call.required(principal == .user ? "UserName" : "RoleName")
        try authorize(call, "ListPoliciesFor\(principal.rawValue)", "\(principal.rawValue.lowercased())/\(target)")
        if principal == .user {
            _ = try await identities.user(account: call.caller.accountID, name: target)
        } else {
            _ = try await identities.role(account: call.caller.accountID, name: target)
        }
        let attached = try await identities.attachedPolicies(account: call.caller.accountID, to: principal, name: target)
        return ["Policies": ["Policy": attached.map { policy, date in
            ["PolicyName": policy.name, "PolicyType": policy.kind.rawValue, "Description": policy.description,
             "DefaultVersion": "v1", "AttachDate": Self.time(date)] as [String: any Sendable]
        }]]
    }

    func attachment(_ call: RPCCall, _ principal: PrincipalKind) throws -> (String, RAMPolicy.Kind, String) {
        (try call.required("PolicyName"), try kind(call, required: true)!, try call.required(principal == .user ? "UserName" : "RoleName"))
    }

    func kind(_ call: RPCCall, required: Bool) throws -> RAMPolicy.Kind? {
        guard let text = required ? try call.required("PolicyType") : call.optional("PolicyType") else { return nil }
        guard let kind = RAMPolicy.Kind(rawValue: text) else {
            throw WireError(status: .badRequest, code: "InvalidParameter.PolicyType", message: "PolicyType must be System or Custom.")
        }
        return kind
    }

    // MARK: Helpers

    func authorize(_ call: RPCCall, _ action: String, _ resource: String) throws {
        try call.authorize("ram:\(action)", resource: "acs:ram:*:\(call.caller.accountID):\(resource)")
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func user(_ user: RAMUser) -> [String: any Sendable] {
        ["UserId": user.id, "UserName": user.name, "DisplayName": user.displayName, "Comments": user.comments,
         "CreateDate": time(user.created), "UpdateDate": time(user.updated)]
    }

    static func role(_ role: RAMRole) -> [String: any Sendable] {
        ["RoleId": role.id, "RoleName": role.name, "Arn": role.arn, "Description": role.description,
         "AssumeRolePolicyDocument": role.trustPolicy, "MaxSessionDuration": role.maxSessionDuration,
         "CreateDate": time(role.created), "UpdateDate": time(role.updated)]
    }

    static func policy(_ policy: RAMPolicy, withDocument: Bool) -> [String: any Sendable] {
        var body: [String: any Sendable] = [
            "PolicyName": policy.name, "PolicyType": policy.kind.rawValue, "Description": policy.description,
            "DefaultVersion": "v1", "CreateDate": time(policy.created), "UpdateDate": time(policy.updated)]
        if withDocument { body["PolicyDocument"] = policy.document }
        return body
    }

    /// RAM's error codes for the directory's failures.
    static func wireError(_ error: VisageError) -> WireError {
        switch error {
        case let .notFound(kind, name):
            return WireError(status: .notFound, code: "EntityNotExist.\(entity(kind))", message: "The \(entity(kind)) \(name) does not exist.")
        case let .limitExceeded(kind, owner, _, message):
            return WireError(status: .conflict, code: "LimitExceeded.\(entity(owner)).\(dependent(kind))", message: message)
        case let .conflict(kind, _, message):
            return WireError(status: .conflict, code: "EntityAlreadyExists.\(entity(kind))", message: message)
        case let .inUse(kind, dependents, _, message):
            return WireError(status: .conflict, code: "DeleteConflict.\(entity(kind)).\(dependent(dependents))", message: message)
        case let .malformedPolicy(field, message):
            return WireError(status: .badRequest, code: "MalformedPolicyDocument", message: "\(field): \(message)")
        case let .invalidArgument(field, message):
            return WireError(status: .badRequest, code: "InvalidParameter.\(field)", message: "\(field) \(message)")
        case .objectRejected, .forbidden, .tooLarge, .preconditionFailed, .rangeNotSatisfiable, .internalFailure, .unavailable:
            return WireError(error)
        }
    }

    /// RAM's entity names (`EntityNotExist.User.AccessKey`).
    static func entity(_ kind: ResourceKind) -> String {
        switch kind {
        case .user: "User"
        case .role: "Role"
        case .policy: "Policy"
        case .accessKey: "User.AccessKey"
        case .userPolicy: "User.Policy"
        case .rolePolicy: "Role.Policy"
        case .policyAttachment: "Attachment"
        case .bucket, .object, .upload, .project, .dataset, .binding, .file, .task, .figure, .figureCluster, .clusteringRun, .edit:
            kind.rawValue
        }
    }

    /// RAM's names for what keeps an entity from being deleted (`DeleteConflict.User.AccessKey`).
    static func dependent(_ kind: ResourceKind) -> String {
        switch kind {
        case .accessKey: "AccessKey"
        case .policy, .userPolicy, .rolePolicy: "Policy"
        case .policyAttachment: "Attachment"
        case .user, .role, .bucket, .object, .upload, .project, .dataset, .binding, .file, .task, .figure, .figureCluster,
             .clusteringRun, .edit:
            entity(kind)
        }
    }
}
