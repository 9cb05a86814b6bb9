import Foundation
import HTTPTypes

/// The parsers a request's bytes reach before anyone is authenticated, each callable with raw
/// input, for the fuzz targets (`visage-fuzz`) of this package only. Every one returns or throws;
/// what they return is dropped.
package enum ParserEntryPoints {
    /// The first line is the Authorization header, the second the query string, the third a
    /// date; the rest is the body. Read as OSS (V1, V4), S3 (SigV4, V2) and RPC (ACS3, V1) would.
    package static func signatures(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let line = { (index: Int) in index < lines.count ? lines[index] : "" }
        var headers = HTTPFields()
        if !line(0).isEmpty { headers[.authorization] = line(0) }
        for name in ["x-oss-date", "x-amz-date", "x-acs-date", "Date"] {
            if let field = HTTPField.Name(name) { headers[field] = line(2) }
        }
        let query = FormEncoding.decode(line(1))
        _ = try? OSSSignature.read(OSSSignature.Input(method: .put, bucket: "fuzz", key: "a/b", query: query, headers: headers))
        _ = try? S3Signature.read(S3Signature.Input(method: .put, rawPath: "/fuzz/a/b", query: query, headers: headers,
                                                    authority: "127.0.0.1"))
        _ = try? RPCSignature.read(method: .post, authority: "127.0.0.1", path: "/", rawQuery: line(1), headers: headers,
                                   parameters: Dictionary(query, uniquingKeysWith: { first, _ in first }), body: Array(line(3).utf8))
    }

    /// OSS/S3 XML bodies: CORS, delete-multiple and multipart completion.
    package static func xmlBodies(_ bytes: [UInt8]) {
        guard let document = OSSXMLReader.parse(bytes) else { return }
        _ = ObjectBodies.corsConfiguration(document)
        _ = try? ObjectBodies.deletion(document)
        _ = try? ObjectBodies.completedParts(document)
    }

    /// Content Moderation scan bodies, asynchronous and synchronous.
    package static func greenScan(_ bytes: [UInt8]) {
        _ = try? GreenScanRequest.parse(bytes, synchronous: false)
        _ = try? GreenScanRequest.parse(bytes, synchronous: true)
    }

    /// An aws-chunked body fed in two pieces, cut where the first byte says, as network reads would.
    package static func awsChunked(_ bytes: [UInt8]) {
        var decoder = AWSChunkedDecoder(chain: nil)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
        _ = try? decoder.feed(bytes[..<cut])
        _ = try? decoder.feed(bytes[cut...])
    }
}
