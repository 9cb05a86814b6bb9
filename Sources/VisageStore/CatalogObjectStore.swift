import Crypto
import Foundation
import SQLKit
import VisageCore

/// An object store made of a blob backend for the bytes and the catalog (bucket, key, size,
/// ETag, checksums, metadata, uploads, change feed) in the metadata store, where listing by
/// prefix, delimiter and marker is an indexed range scan in byte order. With `LocalBlobFiles` it
/// is the embedded default.
public struct CatalogObjectStore: ObjectStore {
    let blobs: any BlobStore
    let store: MetadataStore

    public init(blobs: any BlobStore, store: MetadataStore) {
        self.blobs = blobs
        self.store = store
    }

    /// Removes what an interrupted write left behind: abandoned writes and blobs that neither an
    /// object nor a part of an unfinished multipart upload refers to. Safe to run while other
    /// processes write: blobs they still hold are left alone.
    @discardableResult
    public func recover() async throws -> Int {
        guard blobs.sweepsAtStart else { return 0 }
        return try await sweep()
    }

    public func checkBackend() async throws {
        try await blobs.checkReachable()
    }

    /// Removes blobs that neither an object nor a part refers to, and writes that were abandoned.
    public func sweep() async throws -> Int {
        try await blobs.sweep { [store] blobID in
            try await store.withConnection { db in
                try await db.raw("""
                    SELECT 1 AS one FROM objects WHERE blob_id = \(bind: blobID)
                    UNION ALL SELECT 1 AS one FROM multipart_parts WHERE blob_id = \(bind: blobID)
                    """).first() != nil
            }
        }
    }

    // MARK: Buckets

    public func createBucket(_ name: BucketName, ownerAccount: String) async throws -> BucketInfo {
        let now = WallClock.nowMillis()
        let inserted = try await store.withTransaction { db in
            if try await db.raw("SELECT name FROM buckets WHERE name = \(bind: name.value)").first() != nil {
                return false
            }
            try await db.raw("""
                INSERT INTO buckets (name, owner_account, created_at)
                VALUES (\(bind: name.value), \(bind: ownerAccount), \(bind: now))
                """).run()
            return true
        }
        guard inserted else {
            throw VisageError.conflict(kind: .bucket, name: name.value, message: "the bucket \(name) already exists")
        }
        return BucketInfo(name: name.value, ownerAccount: ownerAccount, created: WallClock.date(millis: now))
    }

    public func bucket(_ name: BucketName) async throws -> BucketInfo {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT name, owner_account, created_at, acl FROM buckets WHERE name = \(bind: name.value)").first()
        }
        guard let row else { throw VisageError.notFound(kind: .bucket, name: name.value) }
        return try Self.bucketInfo(row)
    }

    public func listBuckets() async throws -> [BucketInfo] {
        try await store.withConnection { db in
            try await db.raw("SELECT name, owner_account, created_at, acl FROM buckets ORDER BY name").all()
        }.map(Self.bucketInfo)
    }

    public func usage() async throws -> StorageUsage {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM objects").first()
        }
        return StorageUsage(objects: try row?.decode(column: "n", as: Int.self) ?? 0,
                            bytes: try row?.decode(column: "bytes", as: Int64.self) ?? 0)
    }

    public func deleteBucket(_ name: BucketName) async throws {
        enum Outcome: Sendable { case deleted, missing, notEmpty }
        let outcome = try await store.withTransaction { db -> Outcome in
            guard try await db.raw("SELECT name FROM buckets WHERE name = \(bind: name.value)").first() != nil else {
                return .missing
            }
            if try await db.raw("SELECT object_key FROM objects WHERE bucket = \(bind: name.value) LIMIT 1").first() != nil {
                return .notEmpty
            }
            if try await db.raw("SELECT upload_id FROM multipart_uploads WHERE bucket = \(bind: name.value) LIMIT 1").first() != nil {
                return .notEmpty
            }
            try await db.raw("DELETE FROM buckets WHERE name = \(bind: name.value)").run()
            return .deleted
        }
        switch outcome {
        case .deleted: return
        case .missing: throw VisageError.notFound(kind: .bucket, name: name.value)
        case .notEmpty:
            throw VisageError.inUse(kind: .bucket, by: .object, name: name.value,
                                    message: "the bucket \(name) holds objects or unfinished multipart uploads")
        }
    }

    // MARK: Objects

    /// Streams `body` into a new blob file, checking size and digest, and makes it durable; the
    /// caller records it in the catalog (or discards the writer on failure).
    ///
    /// MD5 (the ETag) is the slowest step of a write: one core hashes some 700 MB/s, less than a
    /// disk writes. So each chunk is hashed by a task of its own while this one computes its
    /// CRC-64, writes it and receives the next; the chunk after waits for that hash, so at most
    /// one chunk is being hashed and the digest still covers the chunks in order.
    func writeBlob(_ writer: any BlobWrite, attributes: ObjectAttributes, body: some AsyncSequence<[UInt8], any Error>)
        async throws -> (size: Int64, md5: [UInt8], crc64: UInt64)
    {
        var size: Int64 = 0
        var crc = CRC64()
        var hashing = Task { Insecure.MD5() }
        for try await chunk in body {
            if size + Int64(chunk.count) > attributes.maxBytes {
                throw VisageError.tooLarge(field: "object", limit: Int(clamping: attributes.maxBytes))
            }
            size += Int64(chunk.count)
            let hashed = await hashing.value
            hashing = Task {
                var md5 = hashed
                md5.update(data: chunk)
                return md5
            }
            crc.update(chunk)
            try await writer.write(chunk)
        }
        let md5 = Array(await hashing.value.finalize())
        if let expected = attributes.expectedMD5, expected != md5 {
            throw VisageError.objectRejected(.digestMismatch, message: "the body does not have the MD5 digest sent with it")
        }
        try await writer.commit()
        return (size, md5, crc.value)
    }

    /// Writes `body` to a new blob and runs `record` (the catalog transaction that refers to it)
    /// while the blob is still held; when anything fails, the blob is discarded.
    func withNewBlob<T: Sendable>(
        attributes: ObjectAttributes, body: some AsyncSequence<[UInt8], any Error>,
        _ record: (_ blobID: String, _ size: Int64, _ md5: [UInt8], _ crc64: UInt64) async throws -> T
    ) async throws -> T {
        let writer = try await blobs.create()
        do {
            let (size, md5, crc64) = try await writeBlob(writer, attributes: attributes, body: body)
            let result = try await record(writer.id, size, md5, crc64)
            await writer.close()
            return result
        } catch {
            await writer.discard()
            await writer.close()
            throw error
        }
    }

    public func putObject(
        bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes,
        body: some AsyncSequence<[UInt8], any Error>
    ) async throws -> ObjectInfo {
        try await storeObject(bucket: bucket, key: key, attributes: attributes, body: body, etag: nil)
    }

    /// Writes the bytes to a new blob and makes it the object in one catalog transaction.
    /// `etag` replaces the MD5 ETag (objects assembled from parts).
    func storeObject(
        bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes,
        body: some AsyncSequence<[UInt8], any Error>, etag: String?
    ) async throws -> ObjectInfo {
        try ObjectTag.validate(attributes.tags)
        let (info, replaced) = try await withNewBlob(attributes: attributes, body: body) { blobID, size, md5, crc64 in
            try await record(bucket: bucket, key: key, attributes: attributes, blobID: blobID, size: size,
                             etag: etag ?? md5.hexString, crc64: crc64)
        }
        if let replaced { await blobs.remove(replaced) }
        return info
    }

    /// Copies within the backend when it can (the bytes never pass through this process), else
    /// streams them. Only an object whose ETag is its MD5 is copied that way, so the copy's ETag
    /// is the MD5 of its bytes whichever way it was made.
    public func copyObject(from sourceBucket: BucketName, _ sourceKey: ObjectKey, to bucket: BucketName, _ key: ObjectKey,
                           attributes: ObjectAttributes?, maxBytes: Int64) async throws -> ObjectInfo {
        let (source, sourceBlob) = try await catalogRow(bucket: sourceBucket, key: sourceKey)
        let kept = ObjectAttributes(contentType: source.contentType, userMetadata: source.userMetadata, maxBytes: maxBytes,
                                    acl: source.acl, tags: source.tags, checksum: source.checksum)
        let chosen = attributes ?? kept
        guard !source.isMultipart, let crc64 = source.crc64 else {
            let read = try await getObject(bucket: sourceBucket, key: sourceKey, range: nil)
            return try await putObject(bucket: bucket, key: key, attributes: chosen, body: read.body)
        }
        guard source.size <= chosen.maxBytes else { throw VisageError.tooLarge(field: "object", limit: Int(clamping: chosen.maxBytes)) }
        try ObjectTag.validate(chosen.tags)
        guard let copy = try await blobs.duplicate(sourceBlob, size: source.size) else {
            let read = try await getObject(bucket: sourceBucket, key: sourceKey, range: nil)
            return try await putObject(bucket: bucket, key: key, attributes: chosen, body: read.body)
        }
        let recorded: (ObjectInfo, String?)
        do {
            recorded = try await record(bucket: bucket, key: key, attributes: chosen, blobID: copy.id, size: source.size,
                                        etag: source.etag, crc64: crc64)
            await copy.close()
        } catch {
            await copy.discard()
            await copy.close()
            throw error
        }
        let (info, replaced) = recorded
        if let replaced { await blobs.remove(replaced) }
        return info
    }

    /// Makes blob `blobID` the object `key` in one catalog transaction (with its change-feed
    /// entry); returns the object and the blob it replaced, if any.
    private func record(bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes, blobID: String, size: Int64,
                        etag: String, crc64: UInt64) async throws -> (ObjectInfo, String?) {
        var info = ObjectInfo(
            bucket: bucket.value, key: key.value, size: size, etag: etag,
            contentType: attributes.contentType, userMetadata: attributes.userMetadata,
            lastModified: WallClock.date(millis: WallClock.nowMillis()))
        info.crc64 = crc64
        info.acl = attributes.acl
        info.tags = attributes.tags
        info.checksum = attributes.checksum
        let row = info
        let metadataJSON = String(decoding: try JSONEncoder.sorted.encode(info.userMetadata), as: UTF8.self)
        let tagsJSON = try Self.tagsText(info.tags)
        let modified = Int64((info.lastModified.timeIntervalSince1970 * 1000).rounded())
        let crcBits = Int64(bitPattern: crc64)
        let acl = info.acl?.rawValue
        let replaced: String? = try await store.withTransaction { db in
            guard try await db.raw("SELECT name FROM buckets WHERE name = \(bind: bucket.value)").first() != nil else {
                throw VisageError.notFound(kind: .bucket, name: bucket.value)
            }
            let old = try await db.raw("""
                SELECT blob_id FROM objects WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).first()?.decode(column: "blob_id", as: String.self)
            try await db.raw("""
                INSERT INTO objects (bucket, object_key, blob_id, size, etag, content_type, user_metadata, last_modified,
                                     crc64, acl, tags, checksum)
                VALUES (\(bind: bucket.value), \(bind: key.value), \(bind: blobID), \(bind: size), \(bind: row.etag),
                        \(bind: row.contentType), \(bind: metadataJSON), \(bind: modified), \(bind: crcBits), \(bind: acl),
                        \(bind: tagsJSON), \(bind: row.checksum))
                ON CONFLICT (bucket, object_key) DO UPDATE SET
                    blob_id = excluded.blob_id, size = excluded.size, etag = excluded.etag,
                    content_type = excluded.content_type, user_metadata = excluded.user_metadata,
                    last_modified = excluded.last_modified, crc64 = excluded.crc64, acl = excluded.acl, tags = excluded.tags,
                    checksum = excluded.checksum
                """).run()
            try await ObjectChangeFeed.record(bucket: bucket, key: key, .put, at: modified, db: db)
            return old
        }
        return (info, replaced)
    }

    public func setObjectACL(bucket: BucketName, key: ObjectKey, _ acl: CannedACL?) async throws {
        try await updateObject(bucket: bucket, key: key) { db in
            try await db.raw("""
                UPDATE objects SET acl = \(bind: acl?.rawValue) WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).run()
        }
    }

    public func setObjectTags(bucket: BucketName, key: ObjectKey, _ tags: [ObjectTag]) async throws {
        try ObjectTag.validate(tags)
        let text = try Self.tagsText(tags)
        try await updateObject(bucket: bucket, key: key) { db in
            try await db.raw("""
                UPDATE objects SET tags = \(bind: text) WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).run()
        }
    }

    /// Runs `update` in a transaction if the object exists, else fails with `notFound`.
    private func updateObject(bucket: BucketName, key: ObjectKey,
                              _ update: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let updated = try await store.withTransaction { db in
            guard try await db.raw("""
                SELECT 1 AS one FROM objects WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).first() != nil else { return false }
            try await update(db)
            return true
        }
        guard updated else {
            _ = try await self.bucket(bucket)
            throw VisageError.notFound(kind: .object, name: key.value)
        }
    }

    static func tagsText(_ tags: [ObjectTag]) throws -> String? {
        tags.isEmpty ? nil : String(decoding: try JSONEncoder.sorted.encode(tags), as: UTF8.self)
    }

    static func tags(_ text: String?) -> [ObjectTag] {
        text.flatMap { try? JSONDecoder().decode([ObjectTag].self, from: Data($0.utf8)) } ?? []
    }

    public func headObject(bucket: BucketName, key: ObjectKey) async throws -> ObjectInfo {
        try await catalogRow(bucket: bucket, key: key).info
    }

    public func getObject(bucket: BucketName, key: ObjectKey, range: ByteRange?) async throws -> ObjectRead {
        let (info, blobID) = try await catalogRow(bucket: bucket, key: key)
        var served: ClosedRange<Int64>?
        if let range {
            guard let resolved = range.resolve(size: info.size) else {
                throw VisageError.rangeNotSatisfiable(size: info.size)
            }
            served = resolved
        }
        let start = served?.lowerBound ?? 0
        let end = served.map { $0.upperBound + 1 } ?? info.size
        return ObjectRead(info: info, range: served, body: try await blobs.read(blobID, from: start, to: end))
    }

    @discardableResult
    public func deleteObject(bucket: BucketName, key: ObjectKey) async throws -> Bool {
        let blobID: String? = try await store.withTransaction { db in
            let old = try await db.raw("""
                SELECT blob_id FROM objects WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).first()?.decode(column: "blob_id", as: String.self)
            if old != nil {
                try await db.raw("""
                    DELETE FROM objects WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                    """).run()
                try await ObjectChangeFeed.record(bucket: bucket, key: key, .delete, at: WallClock.nowMillis(), db: db)
            }
            return old
        }
        guard let blobID else { return false }
        await blobs.remove(blobID)
        return true
    }

    public func listObjects(bucket: BucketName, _ request: ObjectListRequest) async throws -> ObjectListPage {
        _ = try await self.bucket(bucket)
        return try await ObjectListing.page(request) { cursor, inclusive, limit in
            try await store.withConnection { db in
                let comparison: SQLQueryString = inclusive ? ">=" : ">"
                return try await db.raw("""
                    SELECT bucket, object_key, size, etag, content_type, user_metadata, last_modified, blob_id, crc64, acl, tags, checksum
                    FROM objects WHERE bucket = \(bind: bucket.value) AND object_key \(comparison) \(bind: cursor)
                    ORDER BY object_key LIMIT \(bind: limit)
                    """).all()
            }.map { try Self.objectInfo($0).info }
        }
    }

    // MARK: Rows

    private func catalogRow(bucket: BucketName, key: ObjectKey) async throws -> (info: ObjectInfo, blobID: String) {
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT bucket, object_key, size, etag, content_type, user_metadata, last_modified, blob_id, crc64, acl, tags, checksum
                FROM objects WHERE bucket = \(bind: bucket.value) AND object_key = \(bind: key.value)
                """).first()
        }
        guard let row else {
            _ = try await self.bucket(bucket)
            throw VisageError.notFound(kind: .object, name: key.value)
        }
        return try Self.objectInfo(row)
    }

    private static func bucketInfo(_ row: any SQLRow) throws -> BucketInfo {
        BucketInfo(
            name: try row.decode(column: "name", as: String.self),
            ownerAccount: try row.decode(column: "owner_account", as: String.self),
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
            acl: try row.decode(column: "acl", as: String?.self).flatMap(CannedACL.init(rawValue:)) ?? .private)
    }

    private static func objectInfo(_ row: any SQLRow) throws -> (info: ObjectInfo, blobID: String) {
        let metadata = try row.decode(column: "user_metadata", as: String.self)
        var info = ObjectInfo(
            bucket: try row.decode(column: "bucket", as: String.self),
            key: try row.decode(column: "object_key", as: String.self),
            size: try row.decode(column: "size", as: Int64.self),
            etag: try row.decode(column: "etag", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self),
            userMetadata: try JSONDecoder().decode([String: String].self, from: Data(metadata.utf8)),
            lastModified: WallClock.date(millis: try row.decode(column: "last_modified", as: Int64.self)))
        info.crc64 = try row.decode(column: "crc64", as: Int64?.self).map { UInt64(bitPattern: $0) }
        info.acl = try row.decode(column: "acl", as: String?.self).flatMap(CannedACL.init(rawValue:))
        info.tags = tags(try row.decode(column: "tags", as: String?.self))
        info.checksum = try row.decode(column: "checksum", as: String?.self)
        return (info, try row.decode(column: "blob_id", as: String.self))
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so equal values always encode to equal text.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
