import Foundation
import SQLKit
import VisageCore

/// One cross-origin rule of a bucket: which origins may use which methods and request
/// headers, which response headers they may read, and how long a preflight answer may be cached.
public struct CORSRule: Codable, Sendable, Equatable {
    public var allowedOrigins: [String]
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public static let methods: Set = ["GET", "PUT", "DELETE", "POST", "HEAD"]
    public static let maxRules = 10

    public init(allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
                exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// Refuses rules OSS refuses: no origin or method, an unknown method, an origin or header
    /// pattern with more than one `*`.
    public func validate() throws {
        guard !allowedOrigins.isEmpty, !allowedMethods.isEmpty else {
            throw VisageError.invalidArgument(field: "CORSRule", message: "needs at least one AllowedOrigin and one AllowedMethod")
        }
        for method in allowedMethods where !Self.methods.contains(method) {
            throw VisageError.invalidArgument(field: "AllowedMethod", message: "\(method) is not one of GET, PUT, DELETE, POST, HEAD")
        }
        for pattern in allowedOrigins + allowedHeaders where pattern.filter({ $0 == "*" }).count > 1 {
            throw VisageError.invalidArgument(field: "CORSRule", message: "\(pattern) has more than one *")
        }
    }

    /// Whether the rule lets `origin` use `method` with all of `headers`.
    public func allows(origin: String, method: String, headers: [String]) -> Bool {
        allowedOrigins.contains { Self.matches($0, origin) }
            && allowedMethods.contains(method.uppercased())
            && headers.allSatisfy { header in allowedHeaders.contains { Self.matches($0.lowercased(), header.lowercased()) } }
    }

    /// A pattern with at most one `*` standing for any run of characters.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let head = pattern[..<star], tail = pattern[pattern.index(after: star)...]
        return text.count >= head.count + tail.count && text.hasPrefix(head) && text.hasSuffix(tail)
    }

    /// The first of `rules` that allows the request.
    public static func firstMatch(_ rules: [CORSRule], origin: String, method: String, headers: [String]) -> CORSRule? {
        rules.first { $0.allows(origin: origin, method: method, headers: headers) }
    }
}

extension LocalDiskObjectStore {
    /// The bucket's CORS rules; nil when none are set.
    public func corsRules(_ name: BucketName) async throws -> [CORSRule]? {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT cors FROM buckets WHERE name = \(bind: name.value)").first()
        }
        guard let row else { throw VisageError.notFound(kind: "bucket", name: name.value) }
        guard let text = try row.decode(column: "cors", as: String?.self) else { return nil }
        return try JSONDecoder().decode([CORSRule].self, from: Data(text.utf8))
    }

    /// Replaces the bucket's CORS rules (nil removes them).
    public func setCORSRules(_ name: BucketName, _ rules: [CORSRule]?) async throws {
        if let rules {
            guard (1...CORSRule.maxRules).contains(rules.count) else {
                throw VisageError.invalidArgument(field: "CORSConfiguration", message: "has 1 to \(CORSRule.maxRules) rules")
            }
            for rule in rules { try rule.validate() }
        }
        let text = try rules.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let updated = try await store.withTransaction { db in
            guard try await db.raw("SELECT name FROM buckets WHERE name = \(bind: name.value)").first() != nil else { return false }
            try await db.raw("UPDATE buckets SET cors = \(bind: text) WHERE name = \(bind: name.value)").run()
            return true
        }
        guard updated else { throw VisageError.notFound(kind: "bucket", name: name.value) }
    }
}
