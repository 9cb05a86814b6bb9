/// Where the bytes of objects and parts live. Everything else an object store keeps (buckets,
/// keys, ETags, metadata, listings, unfinished uploads, the change feed) is the catalog in the
/// metadata store, the same for every backend (`CatalogObjectStore`). The local disk
/// (`LocalBlobFiles`) is the embedded default; an S3-compatible bucket fits the same protocol.
public protocol BlobStore: Sendable {
    /// Starts a blob under a fresh id. Its bytes are not read before `commit`, and `sweep`
    /// leaves it alone until the write is closed.
    func create() async throws -> any BlobWrite
    /// Bytes `start..<end` of a committed blob. The bytes stay readable through the stream even
    /// if the blob is removed meanwhile (an overwritten object being read).
    func read(_ id: String, from start: Int64, to end: Int64) async throws -> AsyncThrowingStream<[UInt8], any Error>
    /// Removes a blob no catalog row refers to any more; one already gone is no error.
    func remove(_ id: String) async
    /// Removes what was abandoned: writes never closed by a live writer, and committed blobs
    /// for which `isReferenced` says no. Returns how many. Safe while other processes write.
    func sweep(isReferenced: @escaping @Sendable (String) async throws -> Bool) async throws -> Int
    /// A new blob with the bytes of blob `id` (`size` bytes), made by the backend without moving
    /// them through this process, committed but not yet closed (like a write); nil when the
    /// backend cannot, and the caller streams the bytes instead.
    func duplicate(_ id: String, size: Int64) async throws -> (any BlobWrite)?
    /// Fails when the backend cannot be reached; what health checks report.
    func checkReachable() async throws
    /// Whether `recover` sweeps at every start. A sweep of a local folder is quick; a remote
    /// bucket's is a listing of every blob, run on a schedule instead (`visage sweep`).
    var sweepsAtStart: Bool { get }
}

extension BlobStore {
    public func duplicate(_ id: String, size: Int64) async throws -> (any BlobWrite)? { nil }
    /// A backend with nothing to reach (bytes in this process) is always reachable.
    public func checkReachable() async throws {}
    public var sweepsAtStart: Bool { true }
}

/// A blob being written. The catalog row that refers to it is committed before `close`, so a
/// concurrent sweep never takes a blob whose row is about to appear; `close` is called on
/// every path, after `commit` and the row, or after `discard`.
public protocol BlobWrite: Sendable {
    var id: String { get }
    func write(_ bytes: [UInt8]) async throws
    /// Makes the bytes durable and readable under `id`.
    func commit() async throws
    /// Abandons the write and whatever it wrote.
    func discard() async
    func close() async
}
