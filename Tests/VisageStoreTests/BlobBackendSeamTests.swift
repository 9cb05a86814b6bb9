import Foundation
import Synchronization
import Testing
import VisageCore
@testable import VisageStore
import VisageTestSupport

/// A second blob backend, kept in memory, written here only to show that the catalog object
/// store needs nothing of the local disk: what a new backend implements is `BlobStore`.
final class MemoryBlobs: BlobStore {
    let committed = Mutex<[String: [UInt8]]>([:])
    let open = Mutex<Set<String>>([])

    final class Write: BlobWrite {
        let id = UUID().uuidString
        let bytes = Mutex<[UInt8]>([])
        let blobs: MemoryBlobs
        init(_ blobs: MemoryBlobs) { self.blobs = blobs }
        func write(_ chunk: [UInt8]) async throws { bytes.withLock { $0 += chunk } }
        func commit() async throws { let all = bytes.withLock { $0 }; blobs.committed.withLock { $0[id] = all } }
        func discard() async { _ = blobs.committed.withLock { $0.removeValue(forKey: id) } }
        func close() async { _ = blobs.open.withLock { $0.remove(id) } }
    }

    func create() async throws -> any BlobWrite {
        let write = Write(self)
        open.withLock { _ = $0.insert(write.id) }
        return write
    }

    func read(_ id: String, from start: Int64, to end: Int64) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        guard let bytes = committed.withLock({ $0[id] }) else { throw VisageError.internalFailure(message: "no blob \(id)") }
        let slice = Array(bytes[Int(start)..<Int(end)])
        return AsyncThrowingStream { $0.yield(slice); $0.finish() }
    }

    func remove(_ id: String) async { _ = committed.withLock { $0.removeValue(forKey: id) } }

    func sweep(isReferenced: @escaping @Sendable (String) async throws -> Bool) async throws -> Int {
        var removed = 0
        for id in committed.withLock({ Array($0.keys) }) where !open.withLock({ $0.contains(id) }) {
            if try await !isReferenced(id) {
                await remove(id)
                removed += 1
            }
        }
        return removed
    }
}

@Suite("The blob backend seam")
struct BlobBackendSeamTests {
    @Test("the catalog object store runs on another blob backend: objects, ranges, multipart, overwrite, recovery",
          arguments: TestEngine.available)
    func otherBackend(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let blobs = MemoryBlobs()
            let objects = CatalogObjectStore(blobs: blobs, store: store)
            let bucket = try BucketName("photos")
            _ = try await objects.createBucket(bucket, ownerAccount: "1234567890123456")
            let key = try ObjectKey("a.bin")
            _ = try await objects.putObject(bucket: bucket, key: key, bytes: Array("first".utf8))
            let info = try await objects.putObject(bucket: bucket, key: key, bytes: Array("hello world".utf8))
            #expect(info.crc64 == CRC64.of(Array("hello world".utf8)))
            #expect(blobs.committed.withLock { $0.count } == 1)  // the overwritten blob is gone
            #expect(try await objects.getObject(bucket: bucket, key: key, range: .from(6, through: nil)).collect() == Array("world".utf8))

            let upload = try await objects.initiateMultipartUpload(bucket: bucket, key: try ObjectKey("big"), attributes: .init())
            let first = [UInt8](repeating: 1, count: 100 * 1024)
            let parts = [
                try await objects.uploadPart(upload.id, bucket: bucket, key: try ObjectKey("big"), number: 1, attributes: .init(),
                                             body: AsyncThrowingStream { $0.yield(first); $0.finish() }),
                try await objects.uploadPart(upload.id, bucket: bucket, key: try ObjectKey("big"), number: 2, attributes: .init(),
                                             body: AsyncThrowingStream { $0.yield([2, 3]); $0.finish() }),
            ]
            _ = try await objects.completeMultipartUpload(upload.id, bucket: bucket, key: try ObjectKey("big"),
                                                          parts: parts.map { ($0.number, $0.etag) }, maxBytes: 1 << 30)
            #expect(try await objects.getObject(bucket: bucket, key: try ObjectKey("big"), range: nil).collect() == first + [2, 3])
            #expect(blobs.committed.withLock { $0.count } == 2)  // parts removed once assembled

            // A blob whose catalog row never came is what recovery removes; live writes stay.
            let orphan = try await blobs.create()
            try await orphan.write([9])
            try await orphan.commit()
            await orphan.close()
            let live = try await blobs.create()
            try await live.write([8])
            try await live.commit()
            #expect(try await objects.recover() == 1)
            #expect(blobs.committed.withLock { $0[live.id] } == [8])
            await live.close()
        }
    }
}
