import Foundation

/// What a caller asks to do: an action (`oss:PutObject`) on a resource ARN, with the request's
/// context keys (`acs:SourceIp`, `acs:CurrentTime`, `oss:Prefix`, ...) for conditions.
public struct AccessRequest: Sendable {
    public var action: String
    public var resource: String
    /// Context values by key, keys compared without regard to case.
    public private(set) var context: [String: String] = [:]

    public init(action: String, resource: String, context: [String: String] = [:]) {
        self.action = action
        self.resource = resource
        for (key, value) in context { self.context[key.lowercased()] = value }
    }

    public func value(of key: String) -> String? { context[key.lowercased()] }

    /// The condition keys every request carries: its time, its transport and where it came from.
    public static func standardContext(now: Date, sourceIP: String?, secureTransport: Bool = false) -> [String: String] {
        var context = ["acs:CurrentTime": utcTime(now), "acs:SecureTransport": String(secureTransport)]
        if let sourceIP { context["acs:SourceIp"] = sourceIP }
        return context
    }

    /// `date` in UTC to the second, as `ISO8601DateFormatter` writes it by default
    /// (`2026-12-05T13:54:44Z`). Every authorized request needs it, and building a formatter on
    /// Linux cost a tenth of a small GET's CPU time.
    static func utcTime(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
            + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))Z"
    }
}

/// The outcome of evaluating policies: an explicit Deny wins over any Allow; with neither, the
/// answer is no.
public enum AccessDecision: Sendable, Equatable {
    case allow, explicitDeny, implicitDeny
}

extension PolicyDocument.Statement {
    func covers(_ request: AccessRequest) -> Bool {
        let action = request.action.lowercased()
        let actionMatched = actions.contains { Wildcard.matches($0.lowercased(), action) }
        guard actionMatched != actionsNegated else { return false }
        let resourceMatched = resources.contains { Wildcard.matches($0, request.resource) }
        guard resourceMatched != resourcesNegated else { return false }
        return conditions.allSatisfy { $0.test.holds(for: request.value(of: $0.key), values: $0.values) }
    }
}

extension PolicyDocument {
    /// Evaluates a set of policies together, as RAM does for one identity.
    public static func evaluate(_ policies: [PolicyDocument], _ request: AccessRequest) -> AccessDecision {
        var allowed = false
        for statement in policies.lazy.flatMap(\.statements) where statement.covers(request) {
            if statement.effect == .deny { return .explicitDeny }
            allowed = true
        }
        return allowed ? .allow : .implicitDeny
    }

    /// Whether this trust policy lets a caller assume its role: an Allow for `sts:AssumeRole`
    /// naming the caller (`acs:ram::ACCOUNT:root` names every identity of that account), and no
    /// Deny naming it.
    public func trusts(callerAccountID: String, callerARN: String, context: [String: String] = [:]) -> Bool {
        let request = AccessRequest(action: "sts:AssumeRole", resource: "*", context: context)
        var allowed = false
        for statement in statements where statement.covers(request) && statement.names(callerAccountID, callerARN) {
            if statement.effect == .deny { return false }
            allowed = true
        }
        return allowed
    }
}

extension PolicyDocument.Statement {
    func names(_ accountID: String, _ arn: String) -> Bool {
        (principals["RAM"] ?? []).contains { pattern in
            pattern == "acs:ram::\(accountID):root" || pattern == "*" || Wildcard.matches(pattern, arn)
        }
    }
}

/// Everything an authenticated caller may do: the account itself may do anything; a user or
/// role has its attached policies, and an assumed-role session may be narrowed further by the
/// session policy given to AssumeRole (both must allow; a Deny in either wins).
public struct Permissions: Sendable {
    public var isAccountRoot: Bool
    public var policies: [PolicyDocument]
    public var sessionPolicy: PolicyDocument?

    public init(isAccountRoot: Bool = false, policies: [PolicyDocument] = [], sessionPolicy: PolicyDocument? = nil) {
        self.isAccountRoot = isAccountRoot
        self.policies = policies
        self.sessionPolicy = sessionPolicy
    }

    public func decide(_ request: AccessRequest) -> AccessDecision {
        if isAccountRoot { return .allow }
        let granted = PolicyDocument.evaluate(policies, request)
        guard granted == .allow, let sessionPolicy else { return granted }
        return PolicyDocument.evaluate([sessionPolicy], request)
    }
}
