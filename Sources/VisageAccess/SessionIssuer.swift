import Foundation
import VisageCore

/// AssumeRole: who may assume which role for how long, and the temporary credentials that
/// result. STS and the web UI's upload-token endpoint both issue sessions through it.
public struct SessionIssuer: Sendable {
    public let identities: IdentityDirectory
    public let tokens: SessionTokens

    public init(identities: IdentityDirectory, tokens: SessionTokens) {
        self.identities = identities
        self.tokens = tokens
    }

    /// Temporary credentials and what they stand for.
    public struct Grant: Sendable {
        public let accessKeyID: String
        public let secret: String
        public let token: String
        public let expiration: Date
        public let role: RAMRole
        public let sessionName: String
    }

    /// Why a role was not assumed; each names the request field at fault where there is one.
    public enum Refusal: Error, Sendable, Equatable {
        case accountRootCaller
        case invalid(field: String, message: String)
        case roleNotFound(String)
        case notAllowed(String)
        case notTrusted(String)
        case sessionPolicyTooLong
        case sessionPolicyMalformed(String)
    }

    public func assumeRole(caller: Caller, roleARN arn: String, sessionName: String, durationSeconds: Int?,
                           sessionPolicy: String?, context: [String: String], now: Date) async throws -> Grant {
        if caller.identity == .root { throw Refusal.accountRootCaller }
        guard (2...64).contains(sessionName.count),
              sessionName.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".@-_".unicodeScalars.contains($0)) })
        else { throw Refusal.invalid(field: "RoleSessionName", message: "must be 2 to 64 characters of letters, digits and . @ - _") }
        let prefix = "acs:ram::\(caller.accountID):role/"
        guard arn.hasPrefix(prefix), arn.count > prefix.count else {
            throw Refusal.invalid(field: "RoleArn", message: "must be acs:ram::\(caller.accountID):role/NAME")
        }
        guard caller.decide(AccessRequest(action: "sts:AssumeRole", resource: arn, context: context)) == .allow else {
            throw Refusal.notAllowed("sts:AssumeRole on \(arn) is not allowed for \(caller.arn)")
        }
        let role: RAMRole
        do {
            role = try await identities.role(account: caller.accountID, name: String(arn.dropFirst(prefix.count)))
        } catch VisageError.notFound {
            throw Refusal.roleNotFound(arn)
        }
        guard try PolicyDocument.parse(role.trustPolicy, kind: .trust).trusts(callerAccountID: caller.accountID, callerARN: caller.arn)
        else { throw Refusal.notTrusted("the trust policy of \(arn) does not name \(caller.arn)") }
        let duration = durationSeconds ?? 3600
        guard (900...role.maxSessionDuration).contains(duration) else {
            throw Refusal.invalid(field: "DurationSeconds",
                                  message: "must be between 900 and the role's maximum of \(role.maxSessionDuration) seconds")
        }
        if let sessionPolicy {
            guard sessionPolicy.utf8.count <= PolicyDocument.maxSessionPolicyLength else { throw Refusal.sessionPolicyTooLong }
            do {
                _ = try PolicyDocument.parse(sessionPolicy, maxLength: PolicyDocument.maxSessionPolicyLength)
            } catch let error as PolicyError {
                throw Refusal.sessionPolicyMalformed(error.description)
            }
        }
        let issued = Int64(now.timeIntervalSince1970)
        let claims = SessionClaims(accountID: caller.accountID, roleName: role.name, roleID: role.id, sessionName: sessionName,
                                   issuerKeyID: caller.issuerKeyID, sessionPolicy: sessionPolicy, issuedAt: issued,
                                   expiresAt: issued + Int64(duration))
        let issuedCredentials = try tokens.issue(claims)
        return Grant(accessKeyID: issuedCredentials.accessKeyID, secret: issuedCredentials.secret, token: issuedCredentials.token,
                     expiration: issuedCredentials.claims.expiration, role: role, sessionName: sessionName)
    }
}
