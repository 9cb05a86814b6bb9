import Foundation
import VisageAccess
import VisageCore
import VisageStore

/// What every dialect needs to authenticate and authorize a request: the identities, the
/// temporary-credential tokens, the nonce ledger and the clock.
public struct AccessServices: Sendable {
    public let identities: IdentityDirectory
    public let resolver: CallerResolver
    public let nonces: NonceLedger
    /// Largest accepted difference between a request's signing time and the server's clock.
    public let clockSkew: TimeInterval
    public let now: @Sendable () -> Date

    public init(store: MetadataStore, box: SecretBox, clockSkew: TimeInterval = 15 * 60,
                now: @escaping @Sendable () -> Date = { Date() }) {
        let identities = IdentityDirectory(store: store, keys: AccessKeyDirectory(store: store, box: box))
        self.identities = identities
        self.resolver = CallerResolver(identities: identities, tokens: SessionTokens(box: box))
        self.nonces = NonceLedger(store: store)
        self.clockSkew = clockSkew
        self.now = now
    }

    public var tokens: SessionTokens { resolver.tokens }
    public var issuer: SessionIssuer { SessionIssuer(identities: identities, tokens: tokens) }

    /// Checks the signing time, the secret behind the key, the signature and the nonce, in that
    /// order; returns who signed. `signedAt` is nil for forms that carry no time of their own.
    func authenticate(accessKeyID: String, securityToken: String?, signedAt: Date?, nonce: String?,
                      matches: (String) -> Bool, failure: (AuthenticationProblem) -> any Error) async throws -> Caller {
        let now = now()
        if let signedAt, abs(signedAt.timeIntervalSince(now)) > clockSkew { throw failure(.timeSkewed) }
        let resolved: (secret: String, caller: Caller)
        do {
            resolved = try await resolver.resolve(accessKeyID: accessKeyID, securityToken: securityToken, now: now)
        } catch let problem as AuthenticationFailure {
            throw failure(.credentials(problem))
        }
        guard matches(resolved.secret) else { throw failure(.signatureMismatch) }
        if let nonce, !(try await nonces.record("\(accessKeyID):\(nonce)", expires: now.addingTimeInterval(clockSkew * 2))) {
            throw failure(.nonceReused)
        }
        return resolved.caller
    }
}
