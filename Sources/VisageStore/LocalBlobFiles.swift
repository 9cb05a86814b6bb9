import CLinux
import Foundation
import Synchronization
import VisageCore

#if canImport(Glibc)
import Glibc
#endif

/// Blobs as files under the data directory, named by random blob ids (never by object key, so no
/// key can name a path). A blob is written under `tmp/`, synced, then renamed into `blobs/`; each
/// writer holds an exclusive `flock` on its file until its catalog row is committed, which is how
/// recovery tells an abandoned file (lock free) from one another process is still writing.
public struct LocalBlobFiles: BlobStore {
    let root: URL

    /// `root` holds the blob files (created if missing).
    public init(root: URL) throws {
        self.root = root
        try prepare()
    }

    var tmpDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }
    var blobDirectory: URL { root.appendingPathComponent("blobs", isDirectory: true) }

    func prepare() throws {
        for directory in [tmpDirectory, blobDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    func path(ofBlob id: String) -> URL {
        blobDirectory.appendingPathComponent(String(id.prefix(2)), isDirectory: true).appendingPathComponent(id)
    }

    public func create() async throws -> any BlobWrite { try createFile() }

    public func read(_ id: String, from start: Int64, to end: Int64) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        try openForReading(id).stream(from: start, to: end)
    }

    public func remove(_ id: String) async { unlink(path(ofBlob: id).path) }

    public func checkReachable() async throws {
        guard access(blobDirectory.path, W_OK) == 0, access(tmpDirectory.path, W_OK) == 0 else {
            throw posixFailure("write to \(root.path)")
        }
    }

    /// Creates an empty locked temp file for a new blob.
    func createFile() throws -> BlobWriter {
        let id = Identifiers.opaque()
        let tmp = tmpDirectory.appendingPathComponent(id)
        let fd = open(tmp.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw posixFailure("create \(tmp.path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw posixFailure("lock \(tmp.path)")
        }
        return BlobWriter(id: id, fd: fd, tmpPath: tmp, finalPath: path(ofBlob: id))
    }

    /// Opens a blob for reading. An open descriptor keeps the bytes readable even if the object is
    /// overwritten or deleted meanwhile.
    func openForReading(_ id: String) throws -> BlobReader {
        let fd = open(path(ofBlob: id).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixFailure("open blob \(id)") }
        return BlobReader(fd: fd)
    }

    /// Deletes temp files and blobs nobody holds a lock on, for which `isReferenced` says no.
    /// Returns the number of files removed.
    public func sweep(isReferenced: @escaping @Sendable (String) async throws -> Bool) async throws -> Int {
        var removed = 0
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: tmpDirectory.path)) ?? [] {
            if removeIfUnlocked(tmpDirectory.appendingPathComponent(name)) { removed += 1 }
        }
        for shard in (try? manager.contentsOfDirectory(atPath: blobDirectory.path)) ?? [] {
            let shardURL = blobDirectory.appendingPathComponent(shard, isDirectory: true)
            for name in (try? manager.contentsOfDirectory(atPath: shardURL.path)) ?? [] {
                let fd = open(shardURL.appendingPathComponent(name).path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                defer { close(fd) }
                // Checked under the lock: a writer commits its row before it lets the lock go.
                guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
                if try await !isReferenced(name) {
                    unlink(shardURL.appendingPathComponent(name).path)
                    removed += 1
                }
            }
        }
        return removed
    }

    private func removeIfUnlocked(_ url: URL) -> Bool {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        return unlink(url.path) == 0
    }
}

/// A blob file being written. `close()` must be called on every path; it releases the lock.
final class BlobWriter: BlobWrite {
    /// Every this many bytes written, the disk is asked to start writing them out, so the fsync
    /// at the end of a large write waits for the last few megabytes only, not for all of them.
    static let writebackStep: Int64 = 8 << 20

    let id: String
    private let fd: Int32
    let tmpPath: URL
    let finalPath: URL
    /// Bytes written, and how many of them the disk was asked to write out.
    private let position = Mutex((written: Int64(0), flushed: Int64(0)))

    init(id: String, fd: Int32, tmpPath: URL, finalPath: URL) {
        self.id = id
        self.fd = fd
        self.tmpPath = tmpPath
        self.finalPath = finalPath
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw posixFailure("write blob")
            }
            offset += written
        }
        position.withLock { position in
            position.written += Int64(bytes.count)
            if position.written - position.flushed >= Self.writebackStep {
                // Only a head start for fsync, which still decides: a failure here changes nothing.
                _ = visage_start_writeback(fd, position.flushed, position.written - position.flushed)
                position.flushed = position.written
            }
        }
    }

    /// Makes the bytes durable and moves the file to its final name.
    func commit() throws {
        guard fsync(fd) == 0 else { throw posixFailure("fsync blob") }
        let directory = finalPath.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard rename(tmpPath.path, finalPath.path) == 0 else { throw posixFailure("rename blob") }
        let dirFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            Glibc.close(dirFD)
        }
    }

    /// Removes the file wherever it is now; for a write that failed or lost its race.
    func discard() {
        unlink(tmpPath.path)
        unlink(finalPath.path)
    }

    func close() {
        Glibc.close(fd)
    }
}

/// Reads a blob by position; the descriptor closes when the last reference goes.
final class BlobReader: Sendable {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Up to `count` bytes from `offset`, fewer only at the end of the file. The array is filled
    /// by `pread` alone (no zeroing first).
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var filled = 0
            defer { initialized = filled }
            while filled < count {
                let got = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw posixFailure("read blob")
                }
                if got == 0 { break }
                filled += got
            }
        }
    }

    /// A stream of chunks covering bytes `start..<end`. A chunk is 1 MiB: a few large reads and
    /// writes move the bytes faster than many small ones (a 64 MB object is 64 of each).
    func stream(from start: Int64, to end: Int64, chunkSize: Int = 1 << 20) -> AsyncThrowingStream<[UInt8], any Error> {
        let position = Mutex(start)
        return AsyncThrowingStream {
            let offset = position.withLock { $0 }
            guard offset < end else { return nil }
            let chunk = try self.read(at: offset, count: Int(min(Int64(chunkSize), end - offset)))
            guard !chunk.isEmpty else {
                throw VisageError.internalFailure(message: "object data ended early")
            }
            position.withLock { $0 = offset + Int64(chunk.count) }
            return chunk
        }
    }
}

func posixFailure(_ what: String) -> VisageError {
    .internalFailure(message: "\(what): \(String(cString: strerror(errno)))")
}
