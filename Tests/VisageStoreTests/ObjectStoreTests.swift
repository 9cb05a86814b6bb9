import Crypto
import Foundation
import Testing
import VisageCore
@testable import VisageStore
import VisageTestSupport

@Suite("Object store on the local disk")
struct ObjectStoreTests {
    let bucket = try! BucketName("photos")

    func withObjects(_ engine: TestEngine, _ body: (CatalogObjectStore, URL) async throws -> Void) async throws {
        try await engine.withFreshStore { store, directory in
            let objects = CatalogObjectStore(blobs: try LocalBlobFiles(root: directory.appendingPathComponent("objects")), store: store)
            _ = try await objects.createBucket(bucket, ownerAccount: "1234567890123456")
            try await body(objects, directory)
        }
    }

    @Test("schema migrations apply once", arguments: TestEngine.available)
    func migrations(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            #expect(try await store.schemaVersion() == schemaMigrations.last!.version)
            try await Migrator(store: store).migrate()
            let count = try await store.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()!.decode(column: "n", as: Int.self)
            }
            #expect(count == schemaMigrations.count)
        }
    }

    @Test("buckets: create, list, refuse duplicates, refuse deleting a non-empty one", arguments: TestEngine.available)
    func buckets(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, _ in
            await #expect(throws: VisageError.self) { try await objects.createBucket(bucket, ownerAccount: "x") }
            _ = try await objects.createBucket(try BucketName("other-1"), ownerAccount: "x")
            #expect(try await objects.listBuckets().map(\.name) == ["other-1", "photos"])
            _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("a"), bytes: [1])
            await #expect(throws: VisageError.inUse(kind: .bucket, by: .object, name: "photos", message: "the bucket photos holds objects or unfinished multipart uploads")) {
                try await objects.deleteBucket(bucket)
            }
            try await objects.deleteObject(bucket: bucket, key: try ObjectKey("a"))
            try await objects.deleteBucket(bucket)
            await #expect(throws: VisageError.notFound(kind: .bucket, name: "photos")) { try await objects.bucket(bucket) }
        }
    }

    @Test("put and get keep bytes, MD5 ETag, type and metadata; overwrite frees the old blob", arguments: TestEngine.available)
    func roundTrip(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, directory in
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let key = try ObjectKey("dir/photo.jpg")
            let info = try await objects.putObject(
                bucket: bucket, key: key,
                attributes: ObjectAttributes(contentType: "image/jpeg", userMetadata: ["owner": "kenji", "note": "写真"]),
                bytes: bytes)
            #expect(info.etag == Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            #expect(info.size == 300_000)
            let read = try await objects.getObject(bucket: bucket, key: key, range: nil)
            #expect(try await read.collect() == bytes)
            #expect(read.info.contentType == "image/jpeg")
            #expect(read.info.userMetadata == ["owner": "kenji", "note": "写真"])
            #expect(try await objects.headObject(bucket: bucket, key: key) == info)

            _ = try await objects.putObject(bucket: bucket, key: key, bytes: [9, 9, 9])
            #expect(try await objects.getObject(bucket: bucket, key: key, range: nil).collect() == [9, 9, 9])
            #expect(blobFiles(under: directory).count == 1)
            #expect(try await objects.deleteObject(bucket: bucket, key: key))
            #expect(try await !objects.deleteObject(bucket: bucket, key: key))
            #expect(blobFiles(under: directory).isEmpty)
            await #expect(throws: VisageError.notFound(kind: .object, name: "dir/photo.jpg")) {
                try await objects.headObject(bucket: bucket, key: key)
            }
        }
    }

    @Test("an additional checksum is kept with its object, follows a copy, and goes with an overwrite", arguments: TestEngine.available)
    func additionalChecksum(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, _ in
            let key = try ObjectKey("sums/a"), copy = try ObjectKey("sums/b")
            let written = try await objects.putObject(bucket: bucket, key: key, attributes: ObjectAttributes(checksum: "crc32:NhCmhg=="),
                                                      bytes: Array("abc".utf8))
            #expect(written.checksum == "crc32:NhCmhg==")
            #expect(try await objects.headObject(bucket: bucket, key: key).checksum == "crc32:NhCmhg==")
            _ = try await objects.copyObject(from: bucket, key, to: bucket, copy, attributes: nil, maxBytes: 1024)
            #expect(try await objects.headObject(bucket: bucket, key: copy).checksum == "crc32:NhCmhg==")
            _ = try await objects.putObject(bucket: bucket, key: key, bytes: Array("abd".utf8))
            #expect(try await objects.headObject(bucket: bucket, key: key).checksum == nil)
            #expect(try await objects.listObjects(bucket: bucket, ObjectListRequest(prefix: "sums/")).objects.map(\.checksum)
                == [nil, "crc32:NhCmhg=="])
        }
    }

    @Test("byte ranges: first-last, open-ended, suffix, unsatisfiable", arguments: TestEngine.available)
    func ranges(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, _ in
            let bytes = Array(0..<100).map(UInt8.init)
            let key = try ObjectKey("r")
            _ = try await objects.putObject(bucket: bucket, key: key, bytes: bytes)
            func read(_ range: ByteRange) async throws -> [UInt8] {
                try await objects.getObject(bucket: bucket, key: key, range: range).collect()
            }
            #expect(try await read(.from(10, through: 19)) == Array(bytes[10...19]))
            #expect(try await read(.from(90, through: nil)) == Array(bytes[90...]))
            #expect(try await read(.from(95, through: 500)) == Array(bytes[95...]))
            #expect(try await read(.suffix(5)) == Array(bytes[95...]))
            let partial = try await objects.getObject(bucket: bucket, key: key, range: .from(10, through: 19))
            #expect(partial.range == 10...19 && partial.contentLength == 10)
            await #expect(throws: VisageError.rangeNotSatisfiable(size: 100)) { try await read(.from(100, through: nil)) }
        }
    }

    @Test("listing: prefix, delimiter, marker, max keys, UTF-8 byte order", arguments: TestEngine.available)
    func listing(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, _ in
            let keys = ["a", "Z", "é", "a/b", "a/c/d", "a/c/e", "b/1", "b/2", "写真/1.jpg", "~x", "a-", "a/c"]
            for key in keys { _ = try await objects.putObject(bucket: bucket, key: try ObjectKey(key), bytes: [1]) }
            let all = try await objects.listObjects(bucket: bucket, ObjectListRequest())
            let byteOrder = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(all.objects.map(\.key) == byteOrder)
            #expect(!all.isTruncated && all.nextMarker == nil)

            let rolled = try await objects.listObjects(bucket: bucket, ObjectListRequest(delimiter: "/"))
            #expect(rolled.objects.map(\.key) == ["Z", "a", "a-", "~x", "é"])
            #expect(rolled.commonPrefixes == ["a/", "b/", "写真/"])

            let inA = try await objects.listObjects(bucket: bucket, ObjectListRequest(prefix: "a/", delimiter: "/"))
            #expect(inA.objects.map(\.key) == ["a/b", "a/c"])
            #expect(inA.commonPrefixes == ["a/c/"])

            var request = ObjectListRequest(delimiter: "/", maxKeys: 3)
            var seen: [String] = []
            var pages = 0
            while true {
                let page = try await objects.listObjects(bucket: bucket, request)
                pages += 1
                seen += page.objects.map(\.key) + page.commonPrefixes
                guard page.isTruncated else { break }
                request.startAfter = try #require(page.nextMarker)
            }
            #expect(pages == 3)
            #expect(Set(seen) == Set(rolled.objects.map(\.key) + rolled.commonPrefixes))
            #expect(seen.count == 8)
        }
    }

    @Test("listing rolls up groups larger than one scan batch", arguments: TestEngine.available)
    func largeGroups(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, _ in
            for index in 0..<1_100 {
                _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("big/\(index)"), bytes: [])
            }
            _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("c"), bytes: [])
            _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("big0"), bytes: [])
            let page = try await objects.listObjects(bucket: bucket, ObjectListRequest(delimiter: "/"))
            #expect(page.commonPrefixes == ["big/"])
            #expect(page.objects.map(\.key) == ["big0", "c"])
            let flat = try await objects.listObjects(bucket: bucket, ObjectListRequest(prefix: "big/", maxKeys: 1000))
            #expect(flat.objects.count == 1000 && flat.isTruncated)
            let rest = try await objects.listObjects(
                bucket: bucket, ObjectListRequest(prefix: "big/", startAfter: flat.nextMarker!, maxKeys: 1000))
            #expect(rest.objects.count == 100 && !rest.isTruncated)
        }
    }

    @Test("hostile keys are opaque names or refused; nothing lands outside the data directory", arguments: TestEngine.available)
    func hostileKeys(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, sandbox in
            // The object directory sits deep inside a sandbox, so an escape by `../` would show up
            // as a file in the sandbox beside it.
            let objectsRoot = sandbox.appendingPathComponent("a/b/c/objects")
            let objects = CatalogObjectStore(blobs: try LocalBlobFiles(root: objectsRoot), store: store)
            _ = try await objects.createBucket(bucket, ownerAccount: "1")
            let hostile = ["../../etc/passwd", "/abs", "..", "./.", "a/../../b", "\\windows\\system32", "../../../../x"]
            for text in hostile {
                let key = try ObjectKey(text)
                _ = try await objects.putObject(bucket: bucket, key: key, bytes: Array(text.utf8))
                #expect(try await objects.getObject(bucket: bucket, key: key, range: nil).collect() == Array(text.utf8))
            }
            #expect(try await objects.listObjects(bucket: bucket, ObjectListRequest()).objects.count == hostile.count)
            #expect(throws: VisageError.self) { try ObjectKey("a\u{0}b") }
            #expect(throws: VisageError.self) { try ObjectKey(String(repeating: "k", count: 2048)) }
            #expect(throws: VisageError.self) { try ObjectKey("") }
            #expect(throws: VisageError.self) { try ObjectKey(utf8: [0x61, 0xFF, 0xFE]) }
            #expect(try ObjectKey(String(repeating: "k", count: 1023)).value.count == 1023)
            // The only files are the database's and blobs named by random ids under objects/blobs.
            let enumerator = FileManager.default.enumerator(at: sandbox, includingPropertiesForKeys: [.isRegularFileKey])
            var stray: [String] = []
            var blobs = 0
            while let url = enumerator?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let path = url.standardizedFileURL.path
                if path.hasPrefix(objectsRoot.appendingPathComponent("blobs").standardizedFileURL.path)
                    && url.lastPathComponent.allSatisfy({ $0.isHexDigit }) {
                    blobs += 1
                } else if !url.lastPathComponent.hasPrefix("t.sqlite") {
                    stray.append(path)
                }
            }
            #expect(stray.isEmpty)
            #expect(blobs == hostile.count)
        }
    }

    @Test("a failed or oversized write leaves nothing behind", arguments: TestEngine.available)
    func failedWrites(engine: TestEngine) async throws {
        struct Broken: Error {}
        try await withObjects(engine) { objects, directory in
            let key = try ObjectKey("k")
            _ = try await objects.putObject(bucket: bucket, key: key, bytes: [7])
            let failing = AsyncThrowingStream<[UInt8], any Error> { continuation in
                continuation.yield([UInt8](repeating: 1, count: 1000))
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) {
                try await objects.putObject(bucket: bucket, key: key, attributes: .init(), body: failing)
            }
            await #expect(throws: VisageError.tooLarge(field: "object", limit: 10)) {
                try await objects.putObject(bucket: bucket, key: key, attributes: .init(maxBytes: 10),
                                            bytes: [UInt8](repeating: 0, count: 11))
            }
            await #expect(throws: VisageError.notFound(kind: .bucket, name: "missing")) {
                try await objects.putObject(bucket: try BucketName("missing"), key: key, bytes: [1])
            }
            #expect(try await objects.getObject(bucket: bucket, key: key, range: nil).collect() == [7])
            #expect(blobFiles(under: directory).count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("objects/tmp").path).isEmpty)
        }
    }

    @Test("recovery removes abandoned temp files and orphan blobs, not live ones", arguments: TestEngine.available)
    func recovery(engine: TestEngine) async throws {
        try await withObjects(engine) { objects, directory in
            _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("kept"), bytes: [1, 2, 3])
            let tmp = directory.appendingPathComponent("objects/tmp/abandoned")
            let orphan = directory.appendingPathComponent("objects/blobs/ff/ff00000000000000000000000000dead")
            try FileManager.default.createDirectory(at: orphan.deletingLastPathComponent(), withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: tmp.path, contents: Data(count: 10)))
            #expect(FileManager.default.createFile(atPath: orphan.path, contents: Data(count: 10)))
            // A write in progress (its file locked) must survive recovery.
            let live = try (objects.blobs as! LocalBlobFiles).createFile()
            defer { live.close() }
            #expect(try await objects.recover() == 2)
            #expect(!FileManager.default.fileExists(atPath: tmp.path))
            #expect(!FileManager.default.fileExists(atPath: orphan.path))
            #expect(FileManager.default.fileExists(atPath: live.tmpPath.path))
            #expect(try await objects.getObject(bucket: bucket, key: try ObjectKey("kept"), range: nil).collect() == [1, 2, 3])
        }
    }

    @Test("bucket names follow the rules and never shadow server routes")
    func bucketNames() throws {
        for good in ["abc", "my-photos-2026", String(repeating: "a", count: 63)] { _ = try BucketName(good) }
        for bad in ["ab", "-abc", "abc-", "ABC", "a_b", "a.b", String(repeating: "a", count: 64), "green", "healthz",
                    "metrics", "visage", "face"] {
            #expect(throws: VisageError.self) { try BucketName(bad) }
        }
    }
}

func blobFiles(under directory: URL) -> [URL] {
    let root = directory.appendingPathComponent("objects/blobs")
    let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
    var files: [URL] = []
    while let url = enumerator?.nextObject() as? URL {
        if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url) }
    }
    return files
}
