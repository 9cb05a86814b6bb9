import Foundation
import HTTPTypes
import Testing
@testable import VisageServer
import VisageSigning

/// The S3 dialect's signature pieces against the worked examples AWS publishes (the secret
/// `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, 24 May 2013, us-east-1), its aws-chunked
/// decoder, its checksums and its operation table.
@Suite("S3 dialect pieces")
struct S3PiecesTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    /// AWS's chunked PUT example: 66,560 bytes of `a` in chunks of 65,536 and 1,024 bytes.
    func chunkedExample() -> (input: S3Signature.Input, body: [UInt8]) {
        let fields = headers([
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                + "x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
        ])
        var body = Array("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: 65536) + Array("\r\n".utf8)
        body += Array("400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n".utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: 1024) + Array("\r\n".utf8)
        body += Array("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n".utf8)
        let input = S3Signature.Input(method: .put, rawPath: "/examplebucket/chunkObject.txt", query: [], headers: fields,
                                      authority: "s3.amazonaws.com")
        return (input, body)
    }

    /// Decodes `body` in pieces of `piece` bytes through a check built from the example's headers.
    func decode(_ body: [UInt8], piece: Int, signature: S3Signature) throws -> [UInt8] {
        var check = try S3BodyCheck(payload: signature.payload, chain: signature.chunkChain, headers: chunkedExample().input.headers)
        var out: [UInt8] = []
        var index = 0
        while index < body.count {
            out += try check.feed(Array(body[index..<min(index + piece, body.count)]))
            index += piece
        }
        try check.finish()
        return out
    }

    @Test("header form: AWS's GET Object example verifies; another secret, path, range or payload hash does not")
    func headerSignature() throws {
        let empty = S3Payload.emptySHA256
        let authorization = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        func input(path: String = "/test.txt", range: String = "bytes=0-9", payload: String = empty) -> S3Signature.Input {
            S3Signature.Input(method: .get, rawPath: path, query: [], headers: headers([
                ("Authorization", authorization), ("Range", range), ("x-amz-content-sha256", payload), ("x-amz-date", "20130524T000000Z"),
            ]), authority: "examplebucket.s3.amazonaws.com")
        }
        let signature = try #require(try S3Signature.read(input()))
        #expect(signature.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(signature.payload == .sha256(empty))
        #expect(signature.matches(Self.secret))
        #expect(!signature.matches("another secret"))
        #expect(try S3Signature.read(input(path: "/test.txt2"))?.matches(Self.secret) == false)
        #expect(try S3Signature.read(input(range: "bytes=0-10"))?.matches(Self.secret) == false)
        #expect(try S3Signature.read(input(payload: "UNSIGNED-PAYLOAD"))?.matches(Self.secret) == false)
    }

    @Test("Signature Version 2: AWS's examples (GET and PUT of an object, a bucket listing signed as /bucket/)")
    func version2() {
        func signature(_ method: HTTPRequest.Method, _ path: String, _ query: [(String, String)], _ fields: [(String, String)],
                       date: String) -> String {
            let input = S3Signature.Input(method: method, rawPath: path, query: query, headers: headers(fields), authority: nil)
            return SigningText.hmacSHA1Base64(Self.secret, S3Signature.version2StringToSign(input, dateLine: date, queryHeaders: [:]))
        }
        #expect(signature(.get, "/johnsmith/photos/puppy.jpg", [], [], date: "Tue, 27 Mar 2007 19:36:42 +0000")
            == "bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
        #expect(signature(.put, "/johnsmith/photos/puppy.jpg", [], [("Content-Type", "image/jpeg")], date: "Tue, 27 Mar 2007 21:15:45 +0000")
            == "MyyxeRY7whkBe+bq8fHCL/2kKUg=")
        #expect(signature(.get, "/johnsmith", [("prefix", "photos"), ("max-keys", "50"), ("marker", "puppy")], [],
                          date: "Tue, 27 Mar 2007 19:42:41 +0000") == "htDYFYduRNen8P9ZfE/s9SuKy0U=")
        // A sub-resource is part of what is signed; another parameter is not.
        #expect(signature(.get, "/johnsmith/photos/puppy.jpg", [("acl", "")], [], date: "Tue, 27 Mar 2007 19:36:42 +0000")
            != "bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
    }

    @Test("an x-amz- header the signature does not cover is refused")
    func unsignedAmzHeader() throws {
        var example = chunkedExample().input
        example.headers[HTTPField.Name("x-amz-meta-extra")!] = "1"
        #expect(throws: WireError.self) { try S3Signature.read(example) }
    }

    @Test("presigned form: AWS's one-day GET URL verifies; a changed expiry does not")
    func presigned() throws {
        func input(expires: String) -> S3Signature.Input {
            let query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                         ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
                         ("X-Amz-Date", "20130524T000000Z"), ("X-Amz-Expires", expires), ("X-Amz-SignedHeaders", "host"),
                         ("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")]
            return S3Signature.Input(method: .get, rawPath: "/test.txt", query: query, headers: [:],
                                     authority: "examplebucket.s3.amazonaws.com")
        }
        let signature = try #require(try S3Signature.read(input(expires: "86400")))
        #expect(signature.matches(Self.secret))
        #expect(signature.expires == Date(timeIntervalSince1970: 1_369_353_600 + 86400))
        #expect(try S3Signature.read(input(expires: "86401"))?.matches(Self.secret) == false)
        #expect(throws: WireError.self) { try S3Signature.read(input(expires: "604801")) }
    }

    @Test("aws-chunked: AWS's example decodes with its seed and chunk signatures, in any piece size")
    func chunkedUpload() throws {
        let (input, body) = chunkedExample()
        let signature = try #require(try S3Signature.read(input))
        #expect(signature.payload == .signedChunks(trailer: false))
        #expect(signature.matches(Self.secret))
        for piece in [1 << 20, 8192, 1000, 7] {
            let decoded = try decode(body, piece: piece, signature: signature)
            #expect(decoded == [UInt8](repeating: UInt8(ascii: "a"), count: 66560), "piece \(piece)")
        }
    }

    @Test("aws-chunked: a changed byte, chunk signature, cut or extra byte fails the body")
    func chunkedTampering() throws {
        let (input, body) = chunkedExample()
        let signature = try #require(try S3Signature.read(input))
        #expect(signature.matches(Self.secret))
        var flipped = body
        flipped[200] = UInt8(ascii: "b")
        var badSignature = body
        badSignature[30] = badSignature[30] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let lastChunk = body.count - 86
        var badFinal = body
        badFinal[lastChunk + 20] = badFinal[lastChunk + 20] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        for tampered in [flipped, badSignature, badFinal, Array(body.dropLast(2)), body + [0x41]] {
            #expect(throws: WireError.self) { try decode(tampered, piece: 4096, signature: signature) }
        }
        // Without a matched secret there is no chain to verify with.
        let unmatched = try #require(try S3Signature.read(input))
        #expect(unmatched.chunkChain == nil)
    }

    @Test("unsigned aws-chunked with a CRC32 trailer, as the SDKs send over TLS: verified, and a wrong checksum refused")
    func unsignedTrailer() throws {
        let data = Array("Hello, aws-chunked trailer!".utf8)
        var crc = S3Checksum(.crc32)
        crc.update(data)
        let good = crc.finish()
        func body(_ checksum: String) -> [UInt8] {
            Array("\(String(data.count, radix: 16))\r\n".utf8) + data + Array("\r\n0\r\nx-amz-checksum-crc32:\(checksum)\r\n\r\n".utf8)
        }
        let fields = headers([("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-decoded-content-length", String(data.count))])
        func run(_ bytes: [UInt8]) throws -> [UInt8] {
            var check = try S3BodyCheck(payload: .unsignedChunks, chain: nil, headers: fields)
            var out: [UInt8] = []
            for byte in bytes { out += try check.feed([byte]) }
            try check.finish()
            return out
        }
        #expect(try run(body(good)) == data)
        #expect(throws: WireError.self) { try run(body("AAAAAA==")) }
    }

    @Test("checksums: CRC32, CRC32C, SHA-1 and SHA-256 of 123456789, base64 of the big-endian digest")
    func checksums() {
        func digest(_ algorithm: S3Checksum.Algorithm) -> String {
            var checksum = S3Checksum(algorithm)
            checksum.update(Array("1234".utf8))
            checksum.update(Array("56789".utf8))
            return checksum.finish()
        }
        #expect(digest(.crc32) == Data([0xCB, 0xF4, 0x39, 0x26]).base64EncodedString())
        #expect(digest(.crc32c) == Data([0xE3, 0x06, 0x92, 0x83]).base64EncodedString())
        #expect(digest(.sha1) == "98O8HYCOBHMq32eZZczDTKeuNEE=")
        #expect(digest(.sha256) == "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=")
    }

    @Test("a hex payload hash is checked against the body")
    func payloadHash() throws {
        var good = try S3BodyCheck(payload: .sha256(SigningText.sha256Hex(Data("abc".utf8))), chain: nil, headers: [:])
        _ = try good.feed(Array("abc".utf8))
        try good.finish()
        var bad = try S3BodyCheck(payload: .sha256(SigningText.sha256Hex(Data("abc".utf8))), chain: nil, headers: [:])
        _ = try bad.feed(Array("abd".utf8))
        #expect(throws: WireError(status: .badRequest, code: "XAmzContentSHA256Mismatch",
                                  message: "The provided 'x-amz-content-sha256' header does not match what was computed.")) {
            try bad.finish()
        }
    }

    @Test("the operation table: sub-resources S3 has and this server lacks are refused, before any plain read or write")
    func operationTable() {
        func match(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ query: Set<String>, _ fields: HTTPFields = [:])
            -> OperationTable<S3Operation>.Match {
            S3Operation.table.match(method: method, level: level, query: query, headers: fields)
        }
        func operation(_ method: HTTPRequest.Method, _ level: ResourceLevel, _ query: Set<String>, _ fields: HTTPFields = [:])
            -> S3Operation? {
            if case let .operation(found) = match(method, level, query, fields) { return found }
            return nil
        }
        let copy = headers([("x-amz-copy-source", "b/k")])
        #expect(operation(.put, .object, []) == .putObject)
        #expect(operation(.put, .object, ["x-id"]) == .putObject)
        #expect(operation(.put, .object, [], copy) == .copyObject)
        #expect(operation(.put, .object, ["uploadId", "partNumber"], copy) == .uploadPartCopy)
        #expect(operation(.get, .bucket, ["list-type", "prefix", "continuation-token"]) == .listObjectsV2)
        #expect(operation(.get, .bucket, ["marker"]) == .listObjects)
        #expect(operation(.post, .bucket, ["delete"]) == .deleteObjects)
        for (method, level, name) in [(HTTPRequest.Method.put, ResourceLevel.object, "tagging"), (.put, .object, "acl"),
                                      (.put, .bucket, "versioning"), (.put, .bucket, "lifecycle"), (.get, .object, "versionId"),
                                      (.get, .object, "partNumber")] {
            guard case let .notImplemented(parameter) = match(method, level, [name]) else {
                Issue.record("\(method) ?\(name) was not refused")
                continue
            }
            #expect(parameter == name)
        }
    }
}
