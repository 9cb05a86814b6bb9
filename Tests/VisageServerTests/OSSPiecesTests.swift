import HTTPTypes
import Testing
@testable import VisageServer

@Suite("OSS dialect pieces")
struct OSSPiecesTests {
    func match(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ query: Set<String>, headers: HTTPFields = [:])
        -> OperationTable<OSSOperation>.Match {
        OSSOperation.table.match(method: method, level: level, query: query, headers: headers)
    }

    func operation(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ query: Set<String>, headers: HTTPFields = [:])
        -> OSSOperation? {
        if case let .operation(found) = match(method, level, query, headers: headers) { return found }
        return nil
    }

    func refused(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ query: Set<String>) -> String? {
        if case let .notImplemented(parameter) = match(method, level, query) { return parameter }
        return nil
    }

    @Test("the operation table picks the most specific entry and refuses what it does not know")
    func operationTable() {
        var copy = HTTPFields()
        copy[HTTPField.Name("x-oss-copy-source")!] = "/b/k"
        #expect(operation(.put, .object, []) == .putObject)
        #expect(operation(.put, .object, [], headers: copy) == .copyObject)
        #expect(operation(.put, .object, ["uploadId", "partNumber"]) == .uploadPart)
        #expect(operation(.put, .object, ["uploadId", "partNumber"], headers: copy) == .uploadPartCopy)
        #expect(operation(.put, .object, ["acl"]) == .putObjectACL)
        #expect(operation(.get, .object, ["response-content-type", "OSSAccessKeyId", "Signature", "Expires"]) == .getObject)
        #expect(operation(.get, .bucket, ["uploads", "prefix"]) == .listMultipartUploads)
        #expect(operation(.get, .bucket, ["prefix", "list-type", "continuation-token"]) == .listObjects)
        #expect(refused(.put, .object, ["symlink"]) == "symlink")
        #expect(refused(.put, .object, ["acl", "symlink"]) == "symlink")
        #expect(refused(.get, .object, ["prefix"]) == "prefix")
        #expect(refused(.post, .object, ["append", "position"]) == "append")
        #expect(refused(.get, .bucket, ["stat"]) == "stat")
        #expect(refused(.put, .bucket, ["lifecycle"]) == "lifecycle")
        if case .methodNotAllowed = match(.patch, .object, []) {} else { Issue.record("PATCH should be 405") }
        if case .methodNotAllowed = match(.post, .object, []) {} else { Issue.record("a bare POST should be 405") }
    }

    @Test("the XML reader takes control characters and references, and refuses DOCTYPE and malformed documents")
    func xmlReader() throws {
        let document = try #require(OSSXMLReader.parse(Array(
            "<?xml version=\"1.0\"?>\n<!-- c --><Delete><Quiet>false</Quiet><Object><Key>a\u{0C}b\u{01}</Key></Object>"
                .utf8) + Array("<Object><Key>x &amp; &#x41;&#66;<![CDATA[<y>]]></Key></Object><Empty/></Delete>".utf8)))
        #expect(document.name == "Delete")
        #expect(document.children("Object").compactMap { $0.child("Key")?.text } == ["a\u{0C}b\u{01}", "x & AB<y>"])
        #expect(document.child("Empty") != nil)
        for bad in ["<!DOCTYPE x [<!ENTITY e \"e\">]><x>&e;</x>", "<a><b></a></b>", "<a>&unknown;</a>", "<a>", "<a/><b/>",
                    "text<a/>", "<a x=\"1></a>"] {
            #expect(OSSXMLReader.parse(Array(bad.utf8)) == nil, "\(bad)")
        }
        // Constructs that never close, repeated: refused after one pass over the body, not one
        // pass per construct.
        for hostile in ["<a>" + String(repeating: "&amp", count: 200_000), String(repeating: "<?x", count: 200_000),
                        "<a>" + String(repeating: "<!--", count: 200_000)] {
            #expect(OSSXMLReader.parse(Array(hostile.utf8)) == nil)
        }
    }

    @Test("gzip output is a valid gzip member that ends with the trailer")
    func gzip() throws {
        let compressor = GzipCompressor()
        let text = Array(String(repeating: "visage ", count: 2000).utf8)
        let body = try compressor.compress(text, last: false) + compressor.compress([], last: true)
        #expect(body.starts(with: [0x1F, 0x8B]))
        #expect(body.count < text.count / 10)
        // The trailer's last four bytes are the input size, little-endian.
        let size = body.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(size == text.count)
    }

    @Test("Accept-Encoding: gzip is read as clients send it")
    func acceptEncoding() {
        #expect(GzipPolicy.accepts("gzip, deflate, br"))
        #expect(GzipPolicy.accepts("br;q=1.0, gzip;q=0.8"))
        #expect(!GzipPolicy.accepts("gzip;q=0"))
        #expect(!GzipPolicy.accepts("identity"))
        #expect(!GzipPolicy.accepts(nil))
    }
}
