import Foundation
import VisageCore

/// The condition operators of the RAM policy language. A key missing from the request makes
/// the condition false; several policy values for one key are alternatives (any may match), and
/// a negated operator holds when none does.
public enum ConditionTest: String, Sendable, CaseIterable {
    case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
    case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
    case stringLike = "StringLike", stringNotLike = "StringNotLike"
    case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
    case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
    case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
    case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
    case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
    case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
    case bool = "Bool"
    case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"

    var isNegated: Bool {
        switch self {
        case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals, .notIpAddress: true
        default: false
        }
    }

    /// Refuses policy values the operator could never compare (a bad number, date or network).
    func validate(_ values: [String], at path: String) throws {
        for value in values {
            switch self {
            case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
                 .numericGreaterThanEquals:
                guard Double(value) != nil else { throw PolicyError("\(path): \"\(value)\" is not a number") }
            case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
                guard PolicyDates.parse(value) != nil else { throw PolicyError("\(path): \"\(value)\" is not an ISO 8601 time") }
            case .bool:
                guard ["true", "false"].contains(value.lowercased()) else { throw PolicyError("\(path): \"\(value)\" is not true or false") }
            case .ipAddress, .notIpAddress:
                guard IPNetwork(value) != nil else { throw PolicyError("\(path): \"\(value)\" is not an IP address or CIDR block") }
            default:
                break
            }
        }
    }

    /// Whether the request's value satisfies the condition's values.
    func holds(for actual: String?, values: [String]) -> Bool {
        guard let actual else { return false }
        let matchesAny = values.contains { matches(actual, $0) }
        return isNegated ? !matchesAny : matchesAny
    }

    /// The positive comparison behind each operator.
    private func matches(_ actual: String, _ expected: String) -> Bool {
        switch self {
        case .stringEquals, .stringNotEquals: return actual == expected
        case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase: return actual.lowercased() == expected.lowercased()
        case .stringLike, .stringNotLike: return Wildcard.matches(expected, actual)
        case .numericEquals, .numericNotEquals: return compare(Double(actual), Double(expected), ==)
        case .numericLessThan: return compare(Double(actual), Double(expected), <)
        case .numericLessThanEquals: return compare(Double(actual), Double(expected), <=)
        case .numericGreaterThan: return compare(Double(actual), Double(expected), >)
        case .numericGreaterThanEquals: return compare(Double(actual), Double(expected), >=)
        case .dateEquals, .dateNotEquals: return compare(PolicyDates.parse(actual), PolicyDates.parse(expected), ==)
        case .dateLessThan: return compare(PolicyDates.parse(actual), PolicyDates.parse(expected), <)
        case .dateLessThanEquals: return compare(PolicyDates.parse(actual), PolicyDates.parse(expected), <=)
        case .dateGreaterThan: return compare(PolicyDates.parse(actual), PolicyDates.parse(expected), >)
        case .dateGreaterThanEquals: return compare(PolicyDates.parse(actual), PolicyDates.parse(expected), >=)
        case .bool: return actual.lowercased() == expected.lowercased()
        case .ipAddress, .notIpAddress:
            guard let address = IPNetwork.address(actual), let network = IPNetwork(expected) else { return false }
            return network.contains(address)
        }
    }

    private func compare<T>(_ a: T?, _ b: T?, _ test: (T, T) -> Bool) -> Bool {
        guard let a, let b else { return false }
        return test(a, b)
    }
}

/// `*` (any run, even empty) and `?` (one character) patterns, as actions, resources and
/// StringLike use them.
public enum Wildcard {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0
        var star = -1, resume = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                resume = ti
                pi += 1
            } else if star >= 0 {
                // Let the last star swallow one more character and retry.
                pi = star + 1
                resume += 1
                ti = resume
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Times in conditions and in `acs:CurrentTime`: ISO 8601 with or without fractional seconds.
enum PolicyDates {
    static func parse(_ text: String) -> Date? {
        guard DateText.parseable(text) else { return nil }
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
