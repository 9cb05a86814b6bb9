import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageServer
import VisageStore
import VisageVision

/// The request parsers a caller's bytes reach before any check of who they are, each fed
/// arbitrary input. A target must return or throw, never crash, hang or grow without bound.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// Authorization headers and signed query strings of OSS (V1, V4), S3 (SigV4, V2) and RPC (ACS3, V1).
    case signatures
    /// Form-encoded RPC parameters.
    case form
    /// SimpleQuery's JSON query language.
    case simpleQuery = "simple-query"
    /// OSS/S3 XML bodies: multipart completion, delete-multiple, CORS.
    case xmlBodies = "xml-bodies"
    /// RAM policy documents.
    case policy
    /// Content Moderation scan bodies.
    case greenScan = "green-scan"
    /// aws-chunked upload bodies (chunk headers, signatures, trailers).
    case awsChunked = "aws-chunked"
    /// Image headers: format, size and orientation read before any pixel is decoded.
    case imageHeader = "image-header"
    /// Crashes on inputs starting with "CRASH": shows that a crash is caught and its input kept.
    case selfCheck = "self-check"

    /// The request parsers (every target but the self-check).
    static let parsers = allCases.filter { $0 != .selfCheck }

    func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .signatures: ParserEntryPoints.signatures(text)
        case .form: _ = FormEncoding.decode(text)
        case .simpleQuery: _ = try? MetaCondition(parsing: text)
        case .xmlBodies: ParserEntryPoints.xmlBodies(bytes)
        case .policy:
            _ = try? PolicyDocument.parse(text)
            _ = try? PolicyDocument.parse(text, kind: .trust)
        case .greenScan: ParserEntryPoints.greenScan(bytes)
        case .awsChunked: ParserEntryPoints.awsChunked(bytes)
        case .imageHeader:
            _ = try? ImageDecoder().header(of: bytes)
        case .selfCheck:
            if bytes.starts(with: Array("CRASH".utf8)) { fatalError("the self-check's crashing input") }
        }
    }
}
