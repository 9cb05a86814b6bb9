import Foundation
import SQLKit
import VisageCore

/// One uploaded part of a multipart upload.
public struct UploadedPart: Sendable, Equatable {
    public let number: Int
    public let size: Int64
    /// Lower-case hex MD5 of the part's bytes.
    public let etag: String
    public let lastModified: Date
    public var crc64: UInt64?
}

/// An unfinished multipart upload.
public struct MultipartUpload: Sendable, Equatable {
    public let id: String
    public let bucket: String
    public let key: String
    public let contentType: String
    public let userMetadata: [String: String]
    public let initiated: Date
    public var acl: CannedACL?
    public var tags: [ObjectTag] = []
}

/// A listing request for unfinished uploads: those after (`keyMarker`, `uploadIDMarker`) whose
/// key begins with `prefix`, rolled up at `delimiter`.
public struct UploadListRequest: Sendable, Equatable {
    public var prefix: String
    public var delimiter: String
    public var keyMarker: String
    public var uploadIDMarker: String
    public var maxUploads: Int

    public init(prefix: String = "", delimiter: String = "", keyMarker: String = "", uploadIDMarker: String = "",
                maxUploads: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.uploadIDMarker = uploadIDMarker
        self.maxUploads = maxUploads
    }
}

/// One page of unfinished uploads, in key and then upload-id order.
public struct UploadListPage: Sendable, Equatable {
    public var uploads: [MultipartUpload] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    public var nextKeyMarker = ""
    public var nextUploadIDMarker = ""
}

/// Multipart uploads: parts are stored as blobs as they arrive; completing streams them, in the
/// order the client lists, into one new object through the same atomic write as any object, so
/// readers never see a half-assembled object.
extension CatalogObjectStore {
    public static let partNumbers = 1...10_000
    /// Every part but the last must be at least this large, as OSS requires.
    public static let minimumPartSize: Int64 = 100 * 1024

    public func initiateMultipartUpload(bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes) async throws -> MultipartUpload {
        _ = try await self.bucket(bucket)
        let now = WallClock.nowMillis()
        try ObjectTag.validate(attributes.tags)
        let upload = MultipartUpload(id: Identifiers.opaque().uppercased(), bucket: bucket.value, key: key.value,
                                     contentType: attributes.contentType, userMetadata: attributes.userMetadata,
                                     initiated: WallClock.date(millis: now), acl: attributes.acl, tags: attributes.tags)
        let metadata = String(decoding: try JSONEncoder.sorted.encode(upload.userMetadata), as: UTF8.self)
        let tags = try Self.tagsText(upload.tags)
        try await store.withConnection { db in
            try await db.raw("""
                INSERT INTO multipart_uploads (upload_id, bucket, object_key, content_type, user_metadata, initiated_at, acl, tags)
                VALUES (\(bind: upload.id), \(bind: upload.bucket), \(bind: upload.key), \(bind: upload.contentType),
                        \(bind: metadata), \(bind: now), \(bind: upload.acl?.rawValue), \(bind: tags))
                """).run()
        }
        return upload
    }

    /// The upload `id` of this bucket and key, or `notFound("upload")`.
    public func multipartUpload(_ id: String, bucket: BucketName, key: ObjectKey) async throws -> MultipartUpload {
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM multipart_uploads WHERE upload_id = \(bind: id) AND bucket = \(bind: bucket.value)
                  AND object_key = \(bind: key.value)
                """).first()
        }
        guard let row else { throw VisageError.notFound(kind: .upload, name: id) }
        return try Self.upload(row)
    }

    static func upload(_ row: any SQLRow) throws -> MultipartUpload {
        MultipartUpload(
            id: try row.decode(column: "upload_id", as: String.self), bucket: try row.decode(column: "bucket", as: String.self),
            key: try row.decode(column: "object_key", as: String.self), contentType: try row.decode(column: "content_type", as: String.self),
            userMetadata: (try? JSONDecoder().decode([String: String].self,
                                                     from: Data(try row.decode(column: "user_metadata", as: String.self).utf8))) ?? [:],
            initiated: WallClock.date(millis: try row.decode(column: "initiated_at", as: Int64.self)),
            acl: try row.decode(column: "acl", as: String?.self).flatMap(CannedACL.init(rawValue:)),
            tags: tags(try row.decode(column: "tags", as: String?.self)))
    }

    /// Stores one part; a part sent again under the same number replaces the earlier one.
    public func uploadPart(_ id: String, bucket: BucketName, key: ObjectKey, number: Int, attributes: ObjectAttributes,
                           body: some AsyncSequence<[UInt8], any Error>) async throws -> UploadedPart {
        guard Self.partNumbers.contains(number) else {
            throw VisageError.invalidArgument(field: "partNumber", message: "must be from 1 to 10000")
        }
        _ = try await multipartUpload(id, bucket: bucket, key: key)
        let (part, replaced) = try await withNewBlob(attributes: attributes, body: body) { blobID, size, md5, crc64 in
            let part = UploadedPart(number: number, size: size, etag: md5.hexString, lastModified: Date(), crc64: crc64)
            let crcBits = Int64(bitPattern: crc64)
            let now = WallClock.nowMillis()
            let replaced: String? = try await store.withTransaction { db in
                guard try await db.raw("SELECT 1 FROM multipart_uploads WHERE upload_id = \(bind: id)").first() != nil else {
                    throw VisageError.notFound(kind: .upload, name: id)
                }
                let old = try await db.raw("""
                    SELECT blob_id FROM multipart_parts WHERE upload_id = \(bind: id) AND part_number = \(bind: number)
                    """).first()?.decode(column: "blob_id", as: String.self)
                try await db.raw("""
                    INSERT INTO multipart_parts (upload_id, part_number, blob_id, size, etag, last_modified, crc64)
                    VALUES (\(bind: id), \(bind: number), \(bind: blobID), \(bind: size), \(bind: part.etag), \(bind: now),
                            \(bind: crcBits))
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET
                        blob_id = excluded.blob_id, size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                        crc64 = excluded.crc64
                    """).run()
                return old
            }
            return (part, replaced)
        }
        if let replaced { await blobs.remove(replaced) }
        return part
    }

    public func parts(of id: String, bucket: BucketName, key: ObjectKey) async throws -> [UploadedPart] {
        _ = try await multipartUpload(id, bucket: bucket, key: key)
        return try await partRows(id).map(\.part)
    }

    private func partRows(_ id: String) async throws -> [(part: UploadedPart, blobID: String)] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT part_number, blob_id, size, etag, last_modified, crc64 FROM multipart_parts
                WHERE upload_id = \(bind: id) ORDER BY part_number
                """).all()
        }.map { row in
            (UploadedPart(number: try row.decode(column: "part_number", as: Int.self), size: try row.decode(column: "size", as: Int64.self),
                          etag: try row.decode(column: "etag", as: String.self),
                          lastModified: WallClock.date(millis: try row.decode(column: "last_modified", as: Int64.self)),
                          crc64: try row.decode(column: "crc64", as: Int64?.self).map { UInt64(bitPattern: $0) }),
             try row.decode(column: "blob_id", as: String.self))
        }
    }

    /// Assembles the listed parts (ascending numbers, each with its ETag) into the object.
    public func completeMultipartUpload(_ id: String, bucket: BucketName, key: ObjectKey,
                                        parts listed: [(number: Int, etag: String)], maxBytes: Int64) async throws -> ObjectInfo {
        let upload = try await multipartUpload(id, bucket: bucket, key: key)
        let stored = Dictionary(uniqueKeysWithValues: try await partRows(id).map { ($0.part.number, $0) })
        guard !listed.isEmpty else { throw VisageError.objectRejected(.invalidPart, message: "name at least one part") }
        var chosen: [(part: UploadedPart, blobID: String)] = []
        for (index, entry) in listed.enumerated() {
            guard index == 0 || entry.number > listed[index - 1].number else {
                throw VisageError.objectRejected(.invalidPartOrder, message: "parts must be listed in ascending order")
            }
            guard let part = stored[entry.number], part.part.etag == entry.etag.lowercased() else {
                throw VisageError.objectRejected(.invalidPart, message: "part \(entry.number) was not uploaded with that ETag")
            }
            if index < listed.count - 1 && part.part.size < Self.minimumPartSize {
                throw VisageError.objectRejected(.partTooSmall, message: "part \(entry.number) is smaller than 100 KB")
            }
            chosen.append(part)
        }
        let parts = chosen.map { (id: $0.blobID, size: $0.part.size) }
        let blobs = self.blobs
        let body = AsyncThrowingStream<[UInt8], any Error> { continuation in
            let task = Task {
                do {
                    for blob in parts {
                        for try await chunk in try await blobs.read(blob.id, from: 0, to: blob.size) { continuation.yield(chunk) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        // The bytes are written once more as one blob, so the object's CRC-64 comes from that pass.
        let info = try await storeObject(
            bucket: bucket, key: key,
            attributes: ObjectAttributes(contentType: upload.contentType, userMetadata: upload.userMetadata, maxBytes: maxBytes,
                                         acl: upload.acl, tags: upload.tags),
            body: body, etag: MultipartETag.of(partETags: chosen.map(\.part.etag)))
        try await discard(id)
        return info
    }

    public func abortMultipartUpload(_ id: String, bucket: BucketName, key: ObjectKey) async throws {
        _ = try await multipartUpload(id, bucket: bucket, key: key)
        try await discard(id)
    }

    /// Unfinished uploads in key order, then upload id. Read with one scan of the bucket's uploads
    /// from the prefix on; unfinished uploads are few next to objects.
    public func listMultipartUploads(bucket: BucketName, _ request: UploadListRequest) async throws -> UploadListPage {
        _ = try await self.bucket(bucket)
        let start = request.keyMarker.utf8.lexicographicallyPrecedes(request.prefix.utf8) ? request.prefix : request.keyMarker
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM multipart_uploads WHERE bucket = \(bind: bucket.value) AND object_key >= \(bind: start)
                ORDER BY object_key, upload_id
                """).all()
        }
        let uploads = try rows.map(Self.upload).filter { upload in
            guard upload.key.utf8.starts(with: request.prefix.utf8) else { return false }
            if upload.key == request.keyMarker {
                // With only a key marker, every upload of that key is past; with an upload-id marker, those after it.
                return !request.uploadIDMarker.isEmpty && upload.id > request.uploadIDMarker
            }
            return true
        }
        return ObjectListing.uploads(uploads, request)
    }

    /// Forgets an upload and removes its part files.
    private func discard(_ id: String) async throws {
        let blobs = try await partRows(id).map(\.blobID)
        try await store.withTransaction { db in
            try await db.raw("DELETE FROM multipart_parts WHERE upload_id = \(bind: id)").run()
            try await db.raw("DELETE FROM multipart_uploads WHERE upload_id = \(bind: id)").run()
        }
        for blob in blobs { await self.blobs.remove(blob) }
    }
}
