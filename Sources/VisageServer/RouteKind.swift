import HTTPTypes
import VisageCore

/// Which part of the server a request belongs to. One port serves every dialect; this decides
/// between them from the path, a few headers and the query, before any body is read.
public enum RouteKind: Sendable, Equatable {
    /// `/healthz`, `/metrics`.
    case operations
    /// The web UI under `/ui/`.
    case webUI
    /// A browser's plain `GET /`: sent on to the web UI.
    case redirectToUI
    /// Alibaba Cloud RPC (STS, RAM, IMM): `Action` and `Version` as query/form parameters or
    /// `x-acs-action` / `x-acs-version` headers, at `/`.
    case alibabaRPC
    /// Content Moderation ROA calls under `/green/`.
    case green
    /// AWS JSON 1.1 (Rekognition), chosen by the `X-Amz-Target` header.
    case rekognition
    /// Azure AI Face under `/face/`.
    case azureFace
    /// Visage's own API under `/visage/`.
    case visageAPI
    /// The path-style object API: `/` (list buckets), `/<bucket>`, `/<bucket>/<key>`.
    /// `bucket` is nil for the service root; `rawKey` is the still percent-encoded remainder.
    case objectAPI(bucket: String?, rawKey: String?)
    case notFound

    /// Classifies a request from its method, path (without query), query items and headers.
    public static func classify(method: HTTPRequest.Method, path: String, query: [String: String],
                                headers: HTTPFields) -> RouteKind {
        if headers[HTTPField.Name("X-Amz-Target")!] != nil { return .rekognition }
        let trimmed = path.drop(while: { $0 == "/" })
        let first = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch first {
        case "healthz", "metrics": return .operations
        case "ui", "favicon.ico": return .webUI
        case "green": return .green
        case "face": return .azureFace
        case "visage": return .visageAPI
        case "": return classifyRoot(method: method, query: query, headers: headers)
        default:
            guard !BucketName.reserved.contains(first) else { return .notFound }
            let rest = trimmed.dropFirst(first.count)
            let rawKey = rest.isEmpty ? nil : String(rest.dropFirst())
            return .objectAPI(bucket: first, rawKey: rawKey.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    private static func classifyRoot(method: HTTPRequest.Method, query: [String: String], headers: HTTPFields) -> RouteKind {
        if headers[HTTPField.Name("x-acs-action")!] != nil || query["Action"] != nil { return .alibabaRPC }
        if method == .post,
           headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            return .alibabaRPC
        }
        let signedForObjects = headers[.authorization].map { $0.hasPrefix("OSS") } == true
            || query["OSSAccessKeyId"] != nil || query["x-oss-signature"] != nil || query["x-oss-credential"] != nil
        if signedForObjects { return .objectAPI(bucket: nil, rawKey: nil) }
        if method == .get || method == .head, headers[.authorization] == nil { return .redirectToUI }
        return .alibabaRPC
    }

    /// A low-cardinality label for metrics and logs.
    public var label: String {
        switch self {
        case .operations: return "operations"
        case .webUI: return "ui"
        case .redirectToUI: return "redirect"
        case .alibabaRPC: return "alibaba-rpc"
        case .green: return "green"
        case .rekognition: return "rekognition"
        case .azureFace: return "azure-face"
        case .visageAPI: return "visage"
        case .objectAPI: return "object"
        case .notFound: return "not-found"
        }
    }
}
