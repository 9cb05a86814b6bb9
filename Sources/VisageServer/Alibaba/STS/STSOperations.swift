import Foundation
import VisageAccess
import VisageCore

/// STS (Version 2015-04-01): AssumeRole issues temporary credentials for a role;
/// GetCallerIdentity says who signed the call.
struct STSOperations: Sendable {
    let access: AccessServices
    static let version = "2015-04-01"

    func register(in router: inout RPCRouter) {
        router.register(version: Self.version, action: "AssumeRole") { try await assumeRole($0) }
        router.register(version: Self.version, action: "GetCallerIdentity") { getCallerIdentity($0) }
    }

    func assumeRole(_ call: RPCCall) async throws -> [String: any Sendable] {
        let grant: SessionIssuer.Grant
        do {
            grant = try await access.issuer.assumeRole(
                caller: call.caller, roleARN: try call.required("RoleArn"), sessionName: try call.required("RoleSessionName"),
                durationSeconds: try call.integer("DurationSeconds"), sessionPolicy: call.optional("Policy"),
                context: call.context, now: call.now)
        } catch let refusal as SessionIssuer.Refusal {
            throw Self.wireError(refusal)
        }
        var body: [String: any Sendable] = [
            "AssumedRoleUser": ["Arn": "\(grant.role.arn)/\(grant.sessionName)", "AssumedRoleId": "\(grant.role.id):\(grant.sessionName)"],
            "Credentials": Self.credentials(grant),
        ]
        if let source = call.optional("SourceIdentity") { body["SourceIdentity"] = source }
        return body
    }

    /// The `Credentials` object of AssumeRole, also what the upload-token endpoint returns.
    static func credentials(_ grant: SessionIssuer.Grant) -> [String: any Sendable] {
        ["AccessKeyId": grant.accessKeyID, "AccessKeySecret": grant.secret, "SecurityToken": grant.token,
         "Expiration": RAMOperations.time(grant.expiration)]
    }

    static func wireError(_ refusal: SessionIssuer.Refusal) -> WireError {
        switch refusal {
        case .accountRootCaller:
            return WireError(status: .forbidden, code: "NoPermission",
                             message: "The account's own access key cannot assume a role; use a RAM user's access key.")
        case let .invalid(field, message):
            return WireError(status: .badRequest, code: "InvalidParameter.\(field)", message: "\(field) \(message)")
        case let .roleNotFound(arn):
            return WireError(status: .notFound, code: "EntityNotExist.Role", message: "The role \(arn) does not exist.")
        case let .notAllowed(message), let .notTrusted(message):
            return WireError(status: .forbidden, code: "NoPermission", message: "You are not authorized to do this action: \(message).")
        case .sessionPolicyTooLong:
            return WireError(status: .badRequest, code: "InvalidParameter.PolicySize",
                             message: "Policy is longer than \(PolicyDocument.maxSessionPolicyLength) bytes.")
        case let .sessionPolicyMalformed(message):
            return WireError(status: .badRequest, code: "InvalidParameter.PolicyGrammar", message: "Policy: \(message)")
        }
    }

    func getCallerIdentity(_ call: RPCCall) -> [String: any Sendable] {
        let caller = call.caller
        var body: [String: any Sendable] = ["AccountId": caller.accountID, "Arn": caller.arn]
        switch caller.identity {
        case .root:
            body["IdentityType"] = "Account"
            body["PrincipalId"] = caller.accountID
        case let .user(name):
            body["IdentityType"] = "RAMUser"
            body["PrincipalId"] = name
            body["UserId"] = name
        case let .assumedRole(_, roleID, session):
            body["IdentityType"] = "AssumedRoleUser"
            body["PrincipalId"] = "\(roleID):\(session)"
            body["RoleId"] = roleID
        }
        return body
    }
}
