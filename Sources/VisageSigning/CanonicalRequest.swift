import Crypto
import Foundation

/// The parts of a canonical request that ACS3, OSS V4 and AWS SigV4 build alike; each verifier
/// composes them with its own header selection, URI rule and string to sign.
public enum CanonicalRequest {
    /// Query pairs, percent-encoded (RFC 3986), sorted by encoded name and then value in byte
    /// order, joined with `&`. With `bareEmpty` an empty value is written as the name alone (OSS V4);
    /// otherwise as `name=` (ACS3, SigV4).
    public static func query(_ pairs: [(String, String)], bareEmpty: Bool) -> String {
        pairs.map { (SigningText.percentEncode($0.0), SigningText.percentEncode($0.1)) }
            .sorted { a, b in
                a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
                    : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
            }
            .map { bareEmpty && $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// `name:value\n` for each header, names lower-case and sorted, values trimmed; repeated
    /// names are joined with `,` in the order given.
    public static func headers(_ pairs: [(name: String, value: String)]) -> String {
        var merged: [String: [String]] = [:]
        for pair in pairs { merged[pair.name.lowercased(), default: []].append(pair.value.trimmingCharacters(in: .whitespaces)) }
        return merged.keys.sorted().map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
    }

    /// The canonical request: method, URI, query, headers, signed header names, payload hash.
    public static func text(method: String, uri: String, query: String, headers: String, signedHeaders: [String], payload: String) -> String {
        [method, uri, query, headers, signedHeaders.joined(separator: ";"), payload].joined(separator: "\n")
    }
}

/// The parameters of an `Authorization: SCHEME Name=value, Name=value` header (ACS3, OSS V4,
/// SigV4): nil when the header is not of that scheme.
public enum AuthorizationParameters {
    public static func parse(_ header: String, scheme: String) -> [String: String]? {
        guard header.hasPrefix(scheme + " ") else { return nil }
        var fields: [String: String] = [:]
        for part in header.dropFirst(scheme.count + 1).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }
}

/// A credential scope, `KEY/yyyymmdd/region/service/terminator`, as SigV4 and OSS V4 write it.
public struct CredentialScope: Sendable, Equatable {
    public let accessKeyID: String
    public let date: String
    public let region: String
    public let service: String
    public let terminator: String

    public init(accessKeyID: String, date: String, region: String, service: String, terminator: String) {
        self.accessKeyID = accessKeyID
        self.date = date
        self.region = region
        self.service = service
        self.terminator = terminator
    }

    /// Reads `text`, which must name this service and terminator, a key, an 8-digit date and a region.
    public static func parse(_ text: String, service: String, terminator: String) -> CredentialScope? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[3] == service, parts[4] == terminator, !parts[0].isEmpty,
              parts[1].count == 8, parts[1].allSatisfy(\.isNumber), !parts[2].isEmpty
        else { return nil }
        return CredentialScope(accessKeyID: parts[0], date: parts[1], region: parts[2], service: service, terminator: terminator)
    }

    /// `yyyymmdd/region/service/terminator`, as the string to sign names it.
    public var scope: String { "\(date)/\(region)/\(service)/\(terminator)" }

    /// The HMAC-SHA256 key chain: `HMAC(prefix + secret, date)`, then the region, the service and
    /// the terminator in turn.
    public func signingKey(secret: String, prefix: String) -> [UInt8] {
        var key = SigningText.hmacSHA256(Data((prefix + secret).utf8), date)
        for part in [region, service, terminator] { key = SigningText.hmacSHA256(key, part) }
        return key
    }

    /// The hex signature of `stringToSign` with this scope's key.
    public func signature(secret: String, prefix: String, stringToSign: String) -> String {
        SigningText.hex(SigningText.hmacSHA256(signingKey(secret: secret, prefix: prefix), stringToSign))
    }
}
