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

/// A bucket's cross-origin rules, and whether responses say they vary by `Origin` even when no
/// rule applies (so caches never serve one origin's answer to another).
public struct CORSConfiguration: Codable, Sendable, Equatable {
    public var rules: [CORSRule]
    public var responseVary: Bool

    public init(rules: [CORSRule], responseVary: Bool = false) {
        self.rules = rules
        self.responseVary = responseVary
    }

    public func validate() throws {
        guard (1...CORSRule.maxRules).contains(rules.count) else {
            throw VisageError.invalidArgument(field: "CORSConfiguration", message: "has 1 to \(CORSRule.maxRules) rules")
        }
        for rule in rules { try rule.validate() }
    }

    /// Reads the stored JSON: the configuration object, or the bare rule list stored before
    /// `responseVary` was kept.
    static func decode(_ text: String) throws -> CORSConfiguration {
        let data = Data(text.utf8)
        if let rules = try? JSONDecoder().decode([CORSRule].self, from: data) { return CORSConfiguration(rules: rules) }
        return try JSONDecoder().decode(CORSConfiguration.self, from: data)
    }
}

extension CatalogObjectStore {
    public func corsConfiguration(_ name: BucketName) async throws -> CORSConfiguration? {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT cors FROM buckets WHERE name = \(bind: name.value)").first()
        }
        guard let row else { throw VisageError.notFound(kind: .bucket, name: name.value) }
        guard let text = try row.decode(column: "cors", as: String?.self) else { return nil }
        return try CORSConfiguration.decode(text)
    }

    public func setCORSConfiguration(_ name: BucketName, _ configuration: CORSConfiguration?) async throws {
        try configuration?.validate()
        let text = try configuration.map { String(decoding: try JSONEncoder.sorted.encode($0), as: UTF8.self) }
        try await updateBucket(name) { db in
            try await db.raw("UPDATE buckets SET cors = \(bind: text) WHERE name = \(bind: name.value)").run()
        }
    }

    public func setBucketACL(_ name: BucketName, _ acl: CannedACL) async throws {
        try await updateBucket(name) { db in
            try await db.raw("UPDATE buckets SET acl = \(bind: acl.rawValue) WHERE name = \(bind: name.value)").run()
        }
    }

    /// Runs `update` in a transaction if the bucket exists, else fails with `notFound`.
    func updateBucket(_ name: BucketName, _ update: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let updated = try await store.withTransaction { db in
            guard try await db.raw("SELECT name FROM buckets WHERE name = \(bind: name.value)").first() != nil else { return false }
            try await update(db)
            return true
        }
        guard updated else { throw VisageError.notFound(kind: .bucket, name: name.value) }
    }
}
