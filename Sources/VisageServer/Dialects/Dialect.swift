import Foundation
import HTTPTypes
import Hummingbird
import VisageAccess

/// What a request looks like before its body is read: enough to tell the dialects apart.
public struct RequestHead: Sendable {
    public let method: HTTPRequest.Method
    /// The path without the query.
    public let path: String
    public let query: [String: String]
    public let headers: HTTPFields

    public init(method: HTTPRequest.Method, path: String, query: [String: String], headers: HTTPFields) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The first path segment (`green` of `/green/image/scan`); empty at `/`.
    public var firstSegment: String { Self.segments(of: path).first }

    /// A path's first segment and the still percent-encoded rest after its `/` (nil when none).
    static func segments(of path: String) -> (first: String, rest: String?) {
        let trimmed = path.drop(while: { $0 == "/" })
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let rest = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
        return (parts.first.map(String.init) ?? "", rest)
    }
}

/// How a dialect's requests are recognised. The registry checks, in this order: a marking header,
/// then each dialect's claim test in registration order, then the first path segment; for
/// requests at `/`, each dialect's root test in registration order and then the one dialect that
/// takes the rest of `/`; for any other first segment, the one dialect that takes every other path.
public struct Recognition: Sendable {
    /// A header that alone marks the dialect's requests, wherever they go (`X-Amz-Target`).
    public var header: HTTPField.Name?
    /// Which requests are the dialect's on any path, before paths are looked at: for a dialect
    /// told apart by how its requests are signed rather than where they go (S3 beside OSS).
    public var claims: (@Sendable (RequestHead) -> Bool)?
    /// First path segments the dialect owns; they can never be bucket names.
    public var pathPrefixes: Set<String>
    /// Which requests at `/` are the dialect's.
    public var root: (@Sendable (RequestHead) -> Bool)?
    /// Takes the requests at `/` that no dialect's root test accepts (at most one dialect).
    public var restOfRoot: Bool
    /// Takes every first segment no other dialect owns (the object API's bucket names).
    public var otherPaths: Bool

    public init(header: HTTPField.Name? = nil, claims: (@Sendable (RequestHead) -> Bool)? = nil, pathPrefixes: Set<String> = [],
                root: (@Sendable (RequestHead) -> Bool)? = nil, restOfRoot: Bool = false, otherPaths: Bool = false) {
        self.header = header
        self.claims = claims
        self.pathPrefixes = pathPrefixes
        self.root = root
        self.restOfRoot = restOfRoot
        self.otherPaths = otherPaths
    }
}

/// A wire protocol served on the one port: how its requests are recognised, how it answers them,
/// and how it names failures in its own error format. Registering one is one line in
/// `VisageServer.makeRouter` (or the `dialects` a test passes).
public protocol Dialect: Sendable {
    /// A short, low-cardinality name for metrics and logs.
    var name: String { get }
    var recognition: Recognition { get }
    /// Answers a request recognised as this dialect's; `next` hands it on to the server's router.
    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response
    /// Names a failure (a core error, a `WireError`, a body too large, …) in this dialect's codes.
    func wireError(_ error: any Error) -> WireError
    /// Names an authentication failure in this dialect's codes.
    func authenticationError(_ problem: AuthenticationProblem) -> WireError
    /// The error response, in this dialect's body format.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response
}

extension Dialect {
    public func wireError(_ error: any Error) -> WireError { WireError(error) }

    /// Checks a request's signing time, credentials, signature and nonce with the shared access
    /// services; failures come out in this dialect's codes.
    func authenticate(_ access: AccessServices, accessKeyID: String, securityToken: String?, signedAt: Date?, nonce: String?,
                      matches: (String) -> Bool) async throws -> Caller {
        try await access.authenticate(accessKeyID: accessKeyID, securityToken: securityToken, signedAt: signedAt, nonce: nonce,
                                      matches: matches, failure: { authenticationError($0) })
    }
}

/// Everything that can be wrong with a signed request, for the dialect to name.
public enum AuthenticationProblem: Sendable, Equatable {
    case credentials(AuthenticationFailure)
    case signatureMismatch
    case timeSkewed
    case nonceReused
}
