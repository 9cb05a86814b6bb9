import Foundation
import VisageCore

/// A bucket as the object store knows it.
public struct BucketInfo: Sendable, Equatable {
    public let name: String
    public let ownerAccount: String
    public let created: Date
    /// Who may read and write the bucket's objects without signing; objects may set their own.
    public var acl: CannedACL = .private
}

/// The canned access rules object stores share (OSS and S3 spell them alike).
public enum CannedACL: String, Sendable, Equatable, CaseIterable {
    case `private` = "private"
    case publicRead = "public-read"
    case publicReadWrite = "public-read-write"

    /// Whether anyone may read what this rule governs. Writes are never opened to anyone: a
    /// `public-read-write` rule is kept and reported, but writing still needs a policy.
    public var opensReads: Bool { self != .private }
}

/// One tag of an object: a key and a value.
public struct ObjectTag: Codable, Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// At most 10 tags, keys of 1–128 and values of 0–256 characters, keys unique.
    public static func validate(_ tags: [ObjectTag]) throws {
        guard tags.count <= 10 else { throw VisageError.objectRejected(.invalidTags, message: "an object has at most 10 tags") }
        guard Set(tags.map(\.key)).count == tags.count else {
            throw VisageError.objectRejected(.invalidTags, message: "tag keys must be unique")
        }
        for tag in tags {
            guard (1...128).contains(tag.key.count), tag.value.count <= 256 else {
                throw VisageError.objectRejected(.invalidTags, message: "a tag key has 1 to 128 characters and a value at most 256")
            }
        }
    }
}

/// What the store keeps about one object besides its bytes.
public struct ObjectInfo: Sendable, Equatable {
    public let bucket: String
    public let key: String
    public let size: Int64
    /// Lower-case hex MD5 of the bytes; dialects add their own quoting and case.
    public let etag: String
    public let contentType: String
    public let userMetadata: [String: String]
    public let lastModified: Date
    /// CRC-64/ECMA-182 of the bytes; nil for objects stored before checksums were kept.
    public var crc64: UInt64?
    /// The additional checksum the writer sent with the bytes and its dialect verified
    /// (`algorithm:digest`, kept as given); nil when none was sent.
    public var checksum: String?
    /// The object's own access rule; nil follows the bucket's.
    public var acl: CannedACL?
    public var tags: [ObjectTag] = []

    /// Assembled from the parts of a multipart upload: its ETag is `digest-partcount`, not an MD5.
    public var isMultipart: Bool { etag.contains("-") }
}

/// Caller-supplied attributes of a new object.
public struct ObjectAttributes: Sendable, Equatable {
    public var contentType: String
    public var userMetadata: [String: String]
    /// Writes longer than this fail with `VisageError.tooLarge` and leave nothing behind.
    public var maxBytes: Int64
    /// When set, the write fails with `invalidArgument("Content-MD5")` and leaves nothing behind
    /// unless the bytes have this MD5 digest.
    public var expectedMD5: [UInt8]?
    public var acl: CannedACL?
    public var tags: [ObjectTag]
    /// An additional checksum to keep with the object (`algorithm:digest`); the dialect that
    /// takes it verifies it against the bytes before their write completes.
    public var checksum: String?

    public init(contentType: String = "application/octet-stream", userMetadata: [String: String] = [:],
                maxBytes: Int64 = 5 * 1024 * 1024 * 1024, expectedMD5: [UInt8]? = nil, acl: CannedACL? = nil,
                tags: [ObjectTag] = [], checksum: String? = nil) {
        self.contentType = contentType
        self.userMetadata = userMetadata
        self.maxBytes = maxBytes
        self.expectedMD5 = expectedMD5
        self.acl = acl
        self.tags = tags
        self.checksum = checksum
    }
}

/// A requested byte range, as an HTTP `Range` header can express it.
public enum ByteRange: Sendable, Equatable {
    /// `first-` or `first-last` (inclusive).
    case from(Int64, through: Int64?)
    /// The last `n` bytes.
    case suffix(Int64)

    /// The bytes this range selects in an object of `size` bytes, or nil when it selects none.
    public func resolve(size: Int64) -> ClosedRange<Int64>? {
        switch self {
        case let .from(first, last):
            guard first >= 0, first < size else { return nil }
            let end = min(last ?? size - 1, size - 1)
            return end >= first ? first...end : nil
        case let .suffix(count):
            guard count > 0, size > 0 else { return nil }
            return max(0, size - count)...(size - 1)
        }
    }
}

/// An object opened for reading: its description, the byte range being served, and the bytes.
public struct ObjectRead: Sendable {
    public let info: ObjectInfo
    /// The served range; nil means the whole object.
    public let range: ClosedRange<Int64>?
    public let body: AsyncThrowingStream<[UInt8], any Error>

    /// Number of bytes `body` yields.
    public var contentLength: Int64 { range.map { $0.upperBound - $0.lowerBound + 1 } ?? info.size }
}

/// A listing request: keys after `startAfter` that begin with `prefix`, rolled up at `delimiter`.
public struct ObjectListRequest: Sendable, Equatable {
    public var prefix: String
    public var delimiter: String
    public var startAfter: String
    public var maxKeys: Int

    public init(prefix: String = "", delimiter: String = "", startAfter: String = "", maxKeys: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.maxKeys = maxKeys
    }
}

/// One page of a listing. `nextMarker` is the last key or common prefix returned; passing it as
/// the next request's `startAfter` continues the listing.
public struct ObjectListPage: Sendable, Equatable {
    public var objects: [ObjectInfo] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    public var nextMarker: String?
}

/// Objects stored and their bytes, across buckets.
public struct StorageUsage: Sendable, Equatable {
    public let objects: Int
    public let bytes: Int64

    public init(objects: Int, bytes: Int64) {
        self.objects = objects
        self.bytes = bytes
    }
}

/// Bucket and object storage. The local-disk store is the embedded default; an S3-compatible
/// backend fits the same protocol for scale-out. Every put and delete is recorded in the change
/// feed (`ObjectChangeFeed`) in the same metadata-store transaction as the catalog row.
public protocol ObjectStore: Sendable {
    /// Removes what interrupted writes left behind, when the backend does so at every start
    /// (`BlobStore.sweepsAtStart`); returns how many pieces it removed.
    @discardableResult
    func recover() async throws -> Int
    /// Removes what interrupted writes left behind now, whatever the backend; returns how many.
    func sweep() async throws -> Int
    /// Fails when the backend holding the bytes cannot be reached.
    func checkBackend() async throws

    func createBucket(_ name: BucketName, ownerAccount: String) async throws -> BucketInfo
    func bucket(_ name: BucketName) async throws -> BucketInfo
    func listBuckets() async throws -> [BucketInfo]
    /// How many objects every bucket holds together, and their bytes.
    func usage() async throws -> StorageUsage
    /// Fails with `inUse` while the bucket holds objects or unfinished multipart uploads.
    func deleteBucket(_ name: BucketName) async throws
    func setBucketACL(_ name: BucketName, _ acl: CannedACL) async throws
    /// The bucket's cross-origin configuration; nil when none is set.
    func corsConfiguration(_ name: BucketName) async throws -> CORSConfiguration?
    /// Replaces the bucket's cross-origin configuration; nil removes it.
    func setCORSConfiguration(_ name: BucketName, _ configuration: CORSConfiguration?) async throws

    /// Stores an object atomically: readers see the old object or the complete new one, never a part.
    func putObject(
        bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes,
        body: some AsyncSequence<[UInt8], any Error>
    ) async throws -> ObjectInfo
    func headObject(bucket: BucketName, key: ObjectKey) async throws -> ObjectInfo
    /// Opens an object; a range that selects no byte fails with `rangeNotSatisfiable`.
    func getObject(bucket: BucketName, key: ObjectKey, range: ByteRange?) async throws -> ObjectRead
    /// Returns whether an object was there.
    @discardableResult
    func deleteObject(bucket: BucketName, key: ObjectKey) async throws -> Bool
    func listObjects(bucket: BucketName, _ request: ObjectListRequest) async throws -> ObjectListPage
    /// Sets an object's own access rule (nil: follow the bucket's) without touching its bytes or ETag.
    func setObjectACL(bucket: BucketName, key: ObjectKey, _ acl: CannedACL?) async throws
    /// Replaces an object's tags without touching its bytes or ETag.
    func setObjectTags(bucket: BucketName, key: ObjectKey, _ tags: [ObjectTag]) async throws

    func initiateMultipartUpload(bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes) async throws -> MultipartUpload
    func uploadPart(_ id: String, bucket: BucketName, key: ObjectKey, number: Int, attributes: ObjectAttributes,
                    body: some AsyncSequence<[UInt8], any Error>) async throws -> UploadedPart
    func parts(of id: String, bucket: BucketName, key: ObjectKey) async throws -> [UploadedPart]
    func completeMultipartUpload(_ id: String, bucket: BucketName, key: ObjectKey,
                                 parts: [(number: Int, etag: String)], maxBytes: Int64) async throws -> ObjectInfo
    func abortMultipartUpload(_ id: String, bucket: BucketName, key: ObjectKey) async throws
    func listMultipartUploads(bucket: BucketName, _ request: UploadListRequest) async throws -> UploadListPage

    /// Copies an object to another key (any bucket) atomically; `attributes` nil keeps the
    /// source's content type, metadata, access rule and tags. A backend that can copy without
    /// moving the bytes through this process implements it; the default streams them.
    func copyObject(from sourceBucket: BucketName, _ sourceKey: ObjectKey, to bucket: BucketName, _ key: ObjectKey,
                    attributes: ObjectAttributes?, maxBytes: Int64) async throws -> ObjectInfo
}

extension ObjectStore {
    /// Copies by reading the source and writing it as a new object.
    public func copyObject(from sourceBucket: BucketName, _ sourceKey: ObjectKey, to bucket: BucketName, _ key: ObjectKey,
                           attributes: ObjectAttributes?, maxBytes: Int64) async throws -> ObjectInfo {
        let read = try await getObject(bucket: sourceBucket, key: sourceKey, range: nil)
        let kept = ObjectAttributes(contentType: read.info.contentType, userMetadata: read.info.userMetadata, maxBytes: maxBytes,
                                    acl: read.info.acl, tags: read.info.tags, checksum: read.info.checksum)
        return try await putObject(bucket: bucket, key: key, attributes: attributes ?? kept, body: read.body)
    }

    /// Stores an object from bytes already in memory.
    public func putObject(bucket: BucketName, key: ObjectKey, attributes: ObjectAttributes = .init(), bytes: [UInt8])
        async throws -> ObjectInfo
    {
        try await putObject(bucket: bucket, key: key, attributes: attributes, body: AsyncThrowingStream { continuation in
            continuation.yield(bytes)
            continuation.finish()
        })
    }
}

extension ObjectRead {
    /// Collects the whole body; for small objects and tests.
    public func collect() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body { bytes += chunk }
        return bytes
    }
}
