import Foundation
import HTTPTypes
import VisageAccess
import VisageCore
import VisageMedia
@testable import VisageServer
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
        case .signatures: Self.signatures(text, bytes)
        case .form: _ = FormEncoding.decode(text)
        case .simpleQuery: _ = try? MetaCondition(parsing: text)
        case .xmlBodies:
            guard let document = OSSXMLReader.parse(bytes) else { return }
            _ = ObjectBodies.corsConfiguration(document)
            _ = try? ObjectBodies.deletion(document)
            _ = try? ObjectBodies.completedParts(document)
        case .policy:
            _ = try? PolicyDocument.parse(text)
            _ = try? PolicyDocument.parse(text, kind: .trust)
        case .greenScan:
            _ = try? GreenScanRequest.parse(bytes, synchronous: false)
            _ = try? GreenScanRequest.parse(bytes, synchronous: true)
        case .awsChunked:
            // Fed in two pieces split where the input says, as a network read would.
            var decoder = AWSChunkedDecoder(chain: nil)
            let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
            _ = try? decoder.feed(bytes[..<cut])
            _ = try? decoder.feed(bytes[cut...])
        case .imageHeader:
            _ = try? ImageDecoder().header(of: bytes)
        case .selfCheck:
            if bytes.starts(with: Array("CRASH".utf8)) { fatalError("the self-check's crashing input") }
        }
    }

    /// The first line is the Authorization header, the second the query string, the third a
    /// date; the rest is the body.
    static func signatures(_ text: String, _ bytes: [UInt8]) {
        let lines = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let line = { (index: Int) in index < lines.count ? lines[index] : "" }
        var headers = HTTPFields()
        if !line(0).isEmpty, let field = HTTPField.Name("Authorization") { headers[field] = line(0) }
        for name in ["x-oss-date", "x-amz-date", "x-acs-date", "Date"] {
            if let field = HTTPField.Name(name) { headers[field] = line(2) }
        }
        let query = FormEncoding.decode(line(1))
        let body = Array(line(3).utf8)
        _ = try? OSSSignature.read(OSSSignature.Input(method: .put, bucket: "fuzz", key: "a/b", query: query, headers: headers))
        _ = try? S3Signature.read(S3Signature.Input(method: .put, rawPath: "/fuzz/a/b", query: query, headers: headers,
                                                    authority: "127.0.0.1"))
        _ = try? RPCSignature.read(method: .post, authority: "127.0.0.1", path: "/", rawQuery: line(1), headers: headers,
                                   parameters: Dictionary(query, uniquingKeysWith: { first, _ in first }), body: body)
    }
}
