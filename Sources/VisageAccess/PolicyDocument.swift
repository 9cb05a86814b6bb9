import Foundation

/// A RAM-style policy document: `{"Version":"1","Statement":[...]}`. Parsed strictly, so a typo
/// in an element name is an error rather than a silently ignored grant or denial.
public struct PolicyDocument: Sendable, Equatable {
    /// One statement of a policy.
    public struct Statement: Sendable, Equatable {
        public enum Effect: String, Sendable { case allow = "Allow", deny = "Deny" }

        public var effect: Effect
        /// Action patterns (`oss:PutObject`, `imm:*`); with `actionsNegated`, the statement
        /// covers every action *not* matched (`NotAction`).
        public var actions: [String]
        public var actionsNegated = false
        /// Resource ARN patterns; absent in trust policies.
        public var resources: [String]
        public var resourcesNegated = false
        public var conditions: [Condition] = []
        /// Trust policies only: principal kind (`RAM`, `Service`) to patterns.
        public var principals: [String: [String]] = [:]
    }

    /// One operator test on one context key; several values are alternatives.
    public struct Condition: Sendable, Equatable {
        public var test: ConditionTest
        public var key: String
        public var values: [String]
    }

    /// What a document is for: an identity policy needs resources; a trust policy names
    /// principals instead.
    public enum Kind: Sendable { case identity, trust }

    public var statements: [Statement]

    /// Largest documents accepted: RAM's limit for a policy, and STS's for a session policy.
    public static let maxPolicyLength = 6144
    public static let maxSessionPolicyLength = 2048

    /// Parses and validates a document; every error names the element at fault.
    public static func parse(_ text: String, kind: Kind = .identity, maxLength: Int = maxPolicyLength) throws -> PolicyDocument {
        guard text.utf8.count <= maxLength else {
            throw PolicyError("the policy document is longer than \(maxLength) bytes")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let top = json as? [String: Any] else {
            throw PolicyError("the policy document is not a JSON object")
        }
        for key in top.keys where key != "Version" && key != "Statement" {
            throw PolicyError("unknown policy element \"\(key)\"")
        }
        guard top["Version"] as? String == "1" else { throw PolicyError("\"Version\" must be \"1\"") }
        let rawStatements: [Any]
        switch top["Statement"] {
        case let list as [Any]: rawStatements = list
        case let single as [String: Any]: rawStatements = [single]
        default: throw PolicyError("\"Statement\" must be a list of statements")
        }
        return PolicyDocument(statements: try rawStatements.enumerated().map { index, raw in
            guard let object = raw as? [String: Any] else { throw PolicyError("Statement[\(index)] is not an object") }
            return try parseStatement(object, at: "Statement[\(index)]", kind: kind)
        })
    }

    static func parseStatement(_ object: [String: Any], at path: String, kind: Kind) throws -> Statement {
        var allowed: Set = ["Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]
        if kind == .trust { allowed.insert("Principal") }
        for key in object.keys where !allowed.contains(key) {
            throw PolicyError("unknown element \"\(key)\" in \(path)")
        }
        guard let effectText = object["Effect"] as? String, let effect = Statement.Effect(rawValue: effectText) else {
            throw PolicyError("\(path).Effect must be \"Allow\" or \"Deny\"")
        }
        let (actions, actionsNegated) = try oneOf("Action", "NotAction", in: object, at: path)
        guard let actions else { throw PolicyError("\(path) needs \"Action\" or \"NotAction\"") }
        for action in actions where action != "*" && !action.contains(":") {
            throw PolicyError("\(path): action \"\(action)\" is not of the form service:Operation")
        }
        let (resources, resourcesNegated) = try oneOf("Resource", "NotResource", in: object, at: path)
        if kind == .identity && resources == nil { throw PolicyError("\(path) needs \"Resource\" or \"NotResource\"") }
        var statement = Statement(effect: effect, actions: actions, actionsNegated: actionsNegated,
                                  resources: resources ?? ["*"], resourcesNegated: resourcesNegated)
        if let raw = object["Condition"] {
            guard let operators = raw as? [String: Any] else { throw PolicyError("\(path).Condition must be an object") }
            for (name, rawKeys) in operators.sorted(by: { $0.key < $1.key }) {
                guard let test = ConditionTest(rawValue: name) else {
                    throw PolicyError("unknown condition operator \"\(name)\" in \(path)")
                }
                guard let keys = rawKeys as? [String: Any] else { throw PolicyError("\(path).Condition.\(name) must be an object") }
                for (key, values) in keys.sorted(by: { $0.key < $1.key }) {
                    let list = try strings(values, at: "\(path).Condition.\(name).\(key)")
                    try test.validate(list, at: "\(path).Condition.\(name).\(key)")
                    statement.conditions.append(Condition(test: test, key: key, values: list))
                }
            }
        }
        if kind == .trust {
            guard let principal = object["Principal"] as? [String: Any], !principal.isEmpty else {
                throw PolicyError("\(path) needs \"Principal\"")
            }
            for (type, values) in principal {
                statement.principals[type] = try strings(values, at: "\(path).Principal.\(type)")
            }
        }
        return statement
    }

    /// The value of `name` or of its negated form, never both.
    static func oneOf(_ name: String, _ negated: String, in object: [String: Any], at path: String) throws -> ([String]?, Bool) {
        switch (object[name], object[negated]) {
        case (nil, nil): return (nil, false)
        case (let value?, nil): return (try strings(value, at: "\(path).\(name)"), false)
        case (nil, let value?): return (try strings(value, at: "\(path).\(negated)"), true)
        default: throw PolicyError("\(path) has both \"\(name)\" and \"\(negated)\"")
        }
    }

    /// A string or a non-empty list of strings. Numbers and booleans in conditions are
    /// accepted in their written form.
    static func strings(_ value: Any, at path: String) throws -> [String] {
        func text(_ item: Any) -> String? {
            switch item {
            case let string as String: return string
            case let flag as Bool: return flag ? "true" : "false"
            case let number as NSNumber: return number.stringValue
            default: return nil
            }
        }
        if let single = text(value) { return [single] }
        guard let list = value as? [Any], !list.isEmpty else { throw PolicyError("\(path) must be a string or a list of strings") }
        return try list.map { item in
            guard let string = text(item) else { throw PolicyError("\(path) must be a string or a list of strings") }
            return string
        }
    }
}

/// Why a policy document was refused.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
