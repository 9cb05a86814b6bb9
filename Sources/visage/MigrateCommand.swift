import ArgumentParser
import Crypto
import Foundation
import VisageCore
import VisageS3Blobs
import VisageServer
import VisageStore

/// `visage migrate`: copies an embedded data directory into PostgreSQL and an S3-compatible bucket.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy an embedded data directory (SQLite metadata and object files) into PostgreSQL and an S3-compatible bucket.",
        discussion: """
            The source is the data directory (--data); the target database is --to-database-url, and the bucket \
            VISAGE_OBJECT_STORE with the other VISAGE_S3_* settings. Stop the server first. Run it again after \
            an interruption: tables and blobs already copied are kept. Every object's and part's bytes are \
            checked against its catalog row (size, MD5 ETag, CRC-64) and against the bucket's size and ETag.
            """)

    @OptionGroup var data: DataOptions

    @Option(name: .customLong("to-database-url"), help: "postgres://user:pass@host:port/db to copy the metadata into.")
    var targetDatabase: String

    func run() async throws {
        let layout = DataLayout(root: data.resolvedDataDirectory)
        guard FileManager.default.fileExists(atPath: layout.sqliteFile.path) else {
            throw CommandFailure("no embedded metadata at \(layout.sqliteFile.path)")
        }
        let target = try DatabaseLocation(url: targetDatabase)
        guard case .postgres = target else { throw ValidationError("--to-database-url must be a postgres:// URL") }
        let settings: S3Settings
        do {
            guard let configured = try S3Settings.fromEnvironment(ProcessInfo.processInfo.environment) else {
                throw ValidationError("set VISAGE_OBJECT_STORE=s3://bucket/prefix (and the VISAGE_S3_* settings) for the target bucket")
            }
            settings = configured
        } catch let error as VisageError {
            throw ValidationError("\(error)")
        }
        var quiet = data
        if quiet.logLevel == nil && Environment.value("VISAGE_LOG_LEVEL") == nil { quiet.logLevel = "warning" }
        let logger = try quiet.makeLogger(label: "visage")
        try await MetadataStore.withStore(at: .sqlite(path: layout.sqliteFile.path), logger: logger) { source in
            try await MetadataStore.withStore(at: target, logger: logger) { destination in
                let tables = try await MetadataCopy(source: source, target: destination).run { print($0) }
                for table in tables where table.source != table.target {
                    throw CommandFailure("table \(table.table): \(table.source) rows in the source, \(table.target) in the target")
                }
                let copied = tables.filter(\.copiedNow).count
                print("metadata: \(tables.count) tables, \(tables.map(\.source).reduce(0, +)) rows match (\(copied) tables copied now)")
                let local = try LocalBlobFiles(root: layout.objectsDirectory)
                let blobs = try await Self.referencedBlobs(source)
                try await S3BlobStore.with(settings, logger: logger) { bucket in
                    var uploaded = 0
                    for blob in blobs {
                        if try await BlobTransfer(local: local, bucket: bucket, blob: blob).run() { uploaded += 1 }
                    }
                    print("objects: \(blobs.count) blobs match their catalog rows and the bucket's ETags (\(uploaded) uploaded now)")
                }
            }
        }
    }

    /// Every blob a catalog row refers to: objects and parts of unfinished uploads.
    static func referencedBlobs(_ store: MetadataStore) async throws -> [CatalogBlob] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT blob_id, size, etag, crc64, 0 AS part FROM objects
                UNION ALL SELECT blob_id, size, etag, crc64, 1 AS part FROM multipart_parts
                """).all().map { row in
                CatalogBlob(id: try row.decode(column: "blob_id", as: String.self), size: try row.decode(column: "size", as: Int64.self),
                            etag: try row.decode(column: "etag", as: String.self),
                            crc64: try row.decode(column: "crc64", as: Int64?.self).map { UInt64(bitPattern: $0) })
            }
        }
    }
}

/// A blob as a catalog row describes it.
struct CatalogBlob: Sendable {
    let id: String
    let size: Int64
    /// The row's ETag: the MD5 of the bytes unless the object was assembled from parts.
    let etag: String
    let crc64: UInt64?
}

/// Copies one blob from the local files to the bucket unless the bucket already holds it, and
/// checks the bytes against the catalog row and the bucket's ETag either way.
struct BlobTransfer {
    let local: LocalBlobFiles
    let bucket: S3BlobStore
    let blob: CatalogBlob

    /// Returns whether the blob was uploaded now (false: it was there already).
    func run() async throws -> Bool {
        let existing = try await bucket.stat(blob.id)
        let upload = existing.map { $0.size != blob.size } ?? true
        let writer = upload ? bucket.create(id: blob.id) : nil
        var whole = Insecure.MD5()
        var part = Insecure.MD5()
        var partDigests: [UInt8] = []
        var parts = 0
        var inPart = 0
        var crc = CRC64()
        var size: Int64 = 0
        do {
            for try await chunk in try await local.read(blob.id, from: 0, to: blob.size) {
                try await writer?.write(chunk)
                whole.update(data: chunk)
                crc.update(chunk)
                size += Int64(chunk.count)
                // The bucket's ETag of a blob written in parts is over the parts' digests.
                var offset = 0
                while offset < chunk.count {
                    let take = min(bucket.partSize - inPart, chunk.count - offset)
                    part.update(data: chunk[offset..<(offset + take)])
                    inPart += take
                    offset += take
                    if inPart == bucket.partSize {
                        partDigests += Array(part.finalize())
                        part = Insecure.MD5()
                        parts += 1
                        inPart = 0
                    }
                }
            }
            let md5 = Array(whole.finalize()).hexString
            guard size == blob.size else { throw CommandFailure("blob \(blob.id) has \(size) bytes, its row says \(blob.size)") }
            if !blob.etag.contains("-") && md5 != blob.etag {
                throw CommandFailure("blob \(blob.id) does not have the MD5 of its row's ETag \(blob.etag)")
            }
            if let expected = blob.crc64, expected != crc.value {
                throw CommandFailure("blob \(blob.id) does not have its row's CRC-64")
            }
            if let writer {
                try await writer.commit()
                await writer.close()
            }
        } catch {
            await writer?.discard()
            await writer?.close()
            throw error
        }
        if inPart > 0 || parts == 0 {
            partDigests += Array(part.finalize())
            parts += 1
        }
        // One part: the digest of the only part is the MD5 of the whole blob.
        let expectedETag = parts == 1 ? partDigests.hexString : Array(Insecure.MD5.hash(data: partDigests)).hexString + "-\(parts)"
        guard let stored = try await bucket.stat(blob.id), stored.size == blob.size, stored.etag.lowercased() == expectedETag else {
            throw CommandFailure("blob \(blob.id) in the bucket does not match the local file (size or ETag)")
        }
        return upload
    }
}
