import HTTPTypes
import VisageMedia

/// Which of the two session contracts a path belongs to: the preview one the 1.0.0b2 SDK speaks
/// (`…/detectLivenessWithVerify/singleModal/sessions`), or the GA v1.2 one
/// (`…/detectLivenessWithVerify-sessions`).
enum FaceContract: String, Codable, Sendable {
    case preview, ga
}

/// One Face API operation, read from the method and the path after `/face/{apiVersion}/`.
enum FaceOperation: Equatable {
    case create(LivenessKind)
    case list(LivenessKind)
    case get(LivenessKind, String)
    case delete(LivenessKind, String)
    case audit(LivenessKind, String)
    /// The client's calls, authenticated by the session token.
    case challenge(LivenessKind)
    case detect(LivenessKind)

    static let previewVersions: Set = ["v1.1-preview.1", "v1.2-preview.1"]
    static let gaVersions: Set = ["v1.2"]

    /// The operation and its contract; nil for a path this server does not serve.
    static func parse(method: HTTPRequest.Method, path: String) -> (FaceOperation, FaceContract)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard segments.count >= 3, segments[0] == "face" else { return nil }
        let version = segments[1]
        let rest = Array(segments.dropFirst(2))
        let preview = previewVersions.contains(version)
        guard preview || gaVersions.contains(version) else { return nil }
        // Client calls: `detectLiveness[WithVerify]/singleModal[/challenge]` (any letter case, as
        // audit entries show the path lower-cased), under every version.
        if rest.count >= 2, let kind = kind(rest[0]), rest[1].lowercased() == "singlemodal" {
            switch (rest.count, method) {
            case (2, .post): return (.detect(kind), preview ? .preview : .ga)
            case (3, .post) where rest[2].lowercased() == "challenge": return (.challenge(kind), preview ? .preview : .ga)
            default: break
            }
            guard preview, rest.count >= 3, rest[2] == "sessions" else { return nil }
            let ids = Array(rest.dropFirst(3))
            switch (ids.count, method) {
            case (0, .post): return (.create(kind), .preview)
            case (0, .get): return (.list(kind), .preview)
            case (1, .get) where !ids[0].isEmpty: return (.get(kind, ids[0]), .preview)
            case (1, .delete) where !ids[0].isEmpty: return (.delete(kind, ids[0]), .preview)
            case (2, .get) where !ids[0].isEmpty && ids[1] == "audit": return (.audit(kind, ids[0]), .preview)
            default: return nil
            }
        }
        guard !preview, let first = rest.first else { return nil }
        let kind: LivenessKind
        switch first {
        case "detectLivenessWithVerify-sessions": kind = .livenessWithVerify
        case "detectLiveness-sessions": kind = .liveness
        default: return nil
        }
        switch (rest.count, method) {
        case (1, .post): return (.create(kind), .ga)
        case (2, .get) where !rest[1].isEmpty: return (.get(kind, rest[1]), .ga)
        case (2, .delete) where !rest[1].isEmpty: return (.delete(kind, rest[1]), .ga)
        default: return nil
        }
    }

    static func kind(_ segment: String) -> LivenessKind? {
        switch segment.lowercased() {
        case "detectlivenesswithverify": .livenessWithVerify
        case "detectliveness": .liveness
        default: nil
        }
    }

    /// The policy action an application server's key needs; nil for the client's calls.
    var policyAction: String? {
        switch self {
        case let .create(kind): "face:Create\(Self.noun(kind))"
        case let .list(kind): "face:Get\(Self.noun(kind))s"
        case let .get(kind, _): "face:Get\(Self.noun(kind))Result"
        case let .delete(kind, _): "face:Delete\(Self.noun(kind))"
        case let .audit(kind, _): "face:Get\(Self.noun(kind))AuditEntries"
        case .challenge, .detect: nil
        }
    }

    /// The session the operation names, if any.
    var sessionID: String? {
        switch self {
        case let .get(_, id), let .delete(_, id), let .audit(_, id): id
        default: nil
        }
    }

    static func noun(_ kind: LivenessKind) -> String {
        kind == .livenessWithVerify ? "LivenessWithVerifySession" : "LivenessSession"
    }

    /// A short name for metrics.
    var metricName: String {
        switch self {
        case let .create(kind): "Create\(Self.noun(kind))"
        case let .list(kind): "Get\(Self.noun(kind))s"
        case let .get(kind, _): "Get\(Self.noun(kind))Result"
        case let .delete(kind, _): "Delete\(Self.noun(kind))"
        case let .audit(kind, _): "Get\(Self.noun(kind))AuditEntries"
        case let .challenge(kind): "\(kind.rawValue)Challenge"
        case let .detect(kind): "\(kind.rawValue)Detect"
        }
    }
}
