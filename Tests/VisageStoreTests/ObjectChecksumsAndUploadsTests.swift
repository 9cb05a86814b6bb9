import Crypto
import Foundation
import Testing
import VisageCore
@testable import VisageStore
import VisageTestSupport

@Suite("Object checksums, multipart objects, uploads listing, access rules and tags")
struct ObjectChecksumsAndUploadsTests {
    let bucket = try! BucketName("photos")

    func withObjects(_ engine: TestEngine, _ body: (CatalogObjectStore) async throws -> Void) async throws {
        try await engine.withFreshStore { store, directory in
            let objects = CatalogObjectStore(blobs: try LocalBlobFiles(root: directory.appendingPathComponent("objects")), store: store)
            _ = try await objects.createBucket(bucket, ownerAccount: "1234567890123456")
            try await body(objects)
        }
    }

    @Test("CRC-64/ECMA-182 (reflected, as XZ and OSS use it) matches the published check value, in one piece or many")
    func crcCheckValue() {
        #expect(CRC64.of(Array("123456789".utf8)) == 0x995D_C9BB_DF19_39FA)
        #expect(CRC64.of([]) == 0)
        var pieces = CRC64()
        for piece in ["1234", "", "56789"] { pieces.update(Array(piece.utf8)) }
        #expect(pieces.value == 0x995D_C9BB_DF19_39FA)
    }

    @Test("objects and parts keep their CRC-64; an object made of parts has the composite ETag", arguments: TestEngine.available)
    func multipartObject(engine: TestEngine) async throws {
        try await withObjects(engine) { objects in
            let key = try ObjectKey("big.bin")
            let plain = try await objects.putObject(bucket: bucket, key: key, bytes: Array("123456789".utf8))
            #expect(plain.crc64 == 0x995D_C9BB_DF19_39FA && !plain.isMultipart)
            #expect(try await objects.headObject(bucket: bucket, key: key).crc64 == plain.crc64)

            let first = [UInt8](repeating: 7, count: 100 * 1024), second: [UInt8] = [1, 2, 3]
            let upload = try await objects.initiateMultipartUpload(bucket: bucket, key: key,
                                                                   attributes: ObjectAttributes(acl: .publicRead, tags: [.init(key: "k", value: "v")]))
            let parts = [
                try await objects.uploadPart(upload.id, bucket: bucket, key: key, number: 1, attributes: .init(), body: stream(first)),
                try await objects.uploadPart(upload.id, bucket: bucket, key: key, number: 2, attributes: .init(), body: stream(second)),
            ]
            #expect(parts.map(\.crc64) == [CRC64.of(first), CRC64.of(second)])
            #expect(try await objects.parts(of: upload.id, bucket: bucket, key: key).map(\.crc64) == parts.map(\.crc64))
            let info = try await objects.completeMultipartUpload(upload.id, bucket: bucket, key: key,
                                                                 parts: parts.map { ($0.number, $0.etag) }, maxBytes: 1 << 30)
            let digests = Insecure.MD5.hash(data: first) .map { $0 } + Insecure.MD5.hash(data: second).map { $0 }
            let composite = Insecure.MD5.hash(data: digests).map { String(format: "%02x", $0) }.joined() + "-2"
            #expect(info.etag == composite && info.isMultipart)
            #expect(info.crc64 == CRC64.of(first + second))
            let stored = try await objects.headObject(bucket: bucket, key: key)
            #expect(stored.etag == composite && stored.acl == .publicRead && stored.tags == [.init(key: "k", value: "v")])
        }
    }

    @Test("access rules and tags change without touching bytes or ETag; bad tags are refused", arguments: TestEngine.available)
    func aclAndTags(engine: TestEngine) async throws {
        try await withObjects(engine) { objects in
            let key = try ObjectKey("a.txt")
            let before = try await objects.putObject(bucket: bucket, key: key, bytes: [1, 2, 3])
            try await objects.setObjectACL(bucket: bucket, key: key, .publicRead)
            try await objects.setObjectTags(bucket: bucket, key: key, [.init(key: "x", value: "1")])
            let after = try await objects.headObject(bucket: bucket, key: key)
            #expect(after.etag == before.etag && after.crc64 == before.crc64 && after.lastModified == before.lastModified)
            #expect(after.acl == .publicRead && after.tags == [.init(key: "x", value: "1")])
            let tooMany = (0..<11).map { ObjectTag(key: "k\($0)", value: "") }
            await #expect(throws: VisageError.self) { try await objects.setObjectTags(bucket: bucket, key: key, tooMany) }
            await #expect(throws: VisageError.notFound(kind: .object, name: "missing")) {
                try await objects.setObjectACL(bucket: bucket, key: try ObjectKey("missing"), nil)
            }
            try await objects.setBucketACL(bucket, .publicReadWrite)
            #expect(try await objects.bucket(bucket).acl == .publicReadWrite)
        }
    }

    @Test("a bucket with only an unfinished upload is not empty", arguments: TestEngine.available)
    func pendingUploadKeepsBucket(engine: TestEngine) async throws {
        try await withObjects(engine) { objects in
            let upload = try await objects.initiateMultipartUpload(bucket: bucket, key: try ObjectKey("x"), attributes: .init())
            await #expect(throws: VisageError.self) { try await objects.deleteBucket(bucket) }
            try await objects.abortMultipartUpload(upload.id, bucket: bucket, key: try ObjectKey("x"))
            try await objects.deleteBucket(bucket)
        }
    }

    @Test("unfinished uploads list in key and id order, rolled up and paged by both markers", arguments: TestEngine.available)
    func uploadListing(engine: TestEngine) async throws {
        try await withObjects(engine) { objects in
            var all: [(String, String)] = []
            for name in ["a", "a", "b/1", "b/2", "c"] {
                let upload = try await objects.initiateMultipartUpload(bucket: bucket, key: try ObjectKey(name), attributes: .init())
                all.append((name, upload.id))
            }
            all.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            let rolled = try await objects.listMultipartUploads(bucket: bucket, UploadListRequest(delimiter: "/"))
            #expect(rolled.uploads.map(\.key) == ["a", "a", "c"] && rolled.commonPrefixes == ["b/"])
            var seen: [(String, String)] = []
            var request = UploadListRequest(maxUploads: 2)
            while true {
                let page = try await objects.listMultipartUploads(bucket: bucket, request)
                seen += page.uploads.map { ($0.key, $0.id) }
                guard page.isTruncated else { break }
                request.keyMarker = page.nextKeyMarker
                request.uploadIDMarker = page.nextUploadIDMarker
            }
            #expect(seen.map(\.0) == all.map(\.0) && seen.map(\.1) == all.map(\.1))
        }
    }

    @Test("a page that ends on a common prefix is not followed by the same prefix", arguments: TestEngine.available)
    func markerOnCommonPrefix(engine: TestEngine) async throws {
        try await withObjects(engine) { objects in
            for name in ["p/d1/a", "p/d1/b", "p/d2/a", "p/e"] {
                _ = try await objects.putObject(bucket: bucket, key: try ObjectKey(name), bytes: [])
            }
            var listed: [String] = []
            var marker = ""
            while true {
                let page = try await objects.listObjects(bucket: bucket, ObjectListRequest(prefix: "p/", delimiter: "/",
                                                                                             startAfter: marker, maxKeys: 1))
                listed += page.commonPrefixes + page.objects.map(\.key)
                guard page.isTruncated, let next = page.nextMarker else { break }
                marker = next
            }
            #expect(listed == ["p/d1/", "p/d2/", "p/e"])
        }
    }

    @Test("CORS configurations stored before ResponseVary was kept still read")
    func legacyCORS() throws {
        let legacy = #"[{"allowedOrigins":["*"],"allowedMethods":["GET"],"allowedHeaders":[],"exposeHeaders":[]}]"#
        let configuration = try CORSConfiguration.decode(legacy)
        #expect(configuration.rules.count == 1 && configuration.responseVary == false)
    }

    func stream(_ bytes: [UInt8]) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield(bytes)
            continuation.finish()
        }
    }
}
