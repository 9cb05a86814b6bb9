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
        let caller = call.caller
        if caller.identity == .root {
            throw WireError(status: .forbidden, code: "NoPermission",
                            message: "The account's own access key cannot assume a role; use a RAM user's access key.")
        }
        let arn = try call.required("RoleArn")
        let sessionName = try call.required("RoleSessionName")
        guard (2...64).contains(sessionName.count),
              sessionName.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".@-_".unicodeScalars.contains($0)) })
        else {
            throw invalid("RoleSessionName", "must be 2 to 64 characters of letters, digits and . @ - _")
        }
        let prefix = "acs:ram::\(caller.accountID):role/"
        guard arn.hasPrefix(prefix), arn.count > prefix.count else {
            throw invalid("RoleArn", "must be acs:ram::\(caller.accountID):role/NAME")
        }
        try call.authorize("sts:AssumeRole", resource: arn)
        let role: RAMRole
        do {
            role = try await access.identities.role(account: caller.accountID, name: String(arn.dropFirst(prefix.count)))
        } catch VisageError.notFound {
            throw WireError(status: .notFound, code: "EntityNotExist.Role", message: "The role \(arn) does not exist.")
        }
        let trust = try PolicyDocument.parse(role.trustPolicy, kind: .trust)
        guard trust.trusts(callerAccountID: caller.accountID, callerARN: caller.arn) else {
            throw WireError(status: .forbidden, code: "NoPermission",
                            message: "You are not authorized to assume \(arn): its trust policy does not name \(caller.arn).")
        }
        let duration = try call.integer("DurationSeconds") ?? 3600
        guard (900...role.maxSessionDuration).contains(duration) else {
            throw invalid("DurationSeconds", "must be between 900 and the role's maximum of \(role.maxSessionDuration) seconds")
        }
        let sessionPolicy = call.optional("Policy")
        if let sessionPolicy {
            guard sessionPolicy.utf8.count <= PolicyDocument.maxSessionPolicyLength else {
                throw WireError(status: .badRequest, code: "InvalidParameter.PolicySize",
                                message: "Policy is longer than \(PolicyDocument.maxSessionPolicyLength) bytes.")
            }
            do {
                _ = try PolicyDocument.parse(sessionPolicy, maxLength: PolicyDocument.maxSessionPolicyLength)
            } catch let error as PolicyError {
                throw WireError(status: .badRequest, code: "InvalidParameter.PolicyGrammar", message: "Policy: \(error)")
            }
        }
        let issued = Int64(call.now.timeIntervalSince1970)
        let claims = SessionClaims(accessKeyID: "", accountID: caller.accountID, roleName: role.name, roleID: role.id,
                                   sessionName: sessionName, issuerKeyID: caller.issuerKeyID, sessionPolicy: sessionPolicy,
                                   issuedAt: issued, expiresAt: issued + Int64(duration))
        let credentials = try access.tokens.issue(claims)
        var body: [String: any Sendable] = [
            "AssumedRoleUser": ["Arn": "\(role.arn)/\(sessionName)", "AssumedRoleId": "\(role.id):\(sessionName)"],
            "Credentials": ["AccessKeyId": credentials.accessKeyID, "AccessKeySecret": credentials.secret,
                            "SecurityToken": credentials.token, "Expiration": RAMOperations.time(credentials.claims.expiration)],
        ]
        if let source = call.optional("SourceIdentity") { body["SourceIdentity"] = source }
        return body
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

    func invalid(_ field: String, _ message: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidParameter.\(field)", message: "\(field) \(message)")
    }
}
