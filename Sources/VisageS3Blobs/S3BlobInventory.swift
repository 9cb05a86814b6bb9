import Foundation
import NIOHTTP1
import VisageCore
import VisageStore

/// What a copy from another backend needs: writing a blob under an id it already has, and
/// asking whether a blob is there (its size and the bucket's ETag for it).
extension S3BlobStore {
    /// Starts a write of the blob `id` (an id another backend gave it).
    public func create(id: String) -> any BlobWrite {
        S3BlobWrite(id: id, connection: connection)
    }

    /// The size and ETag (unquoted) of blob `id`, or nil when the bucket does not hold it.
    public func stat(_ id: String) async throws -> (size: Int64, etag: String)? {
        do {
            let response = try await connection.send(.HEAD, key: connection.key(of: id), what: "look up blob \(id)")
            let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? -1
            let etag = (response.headers.first(name: "etag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (size, etag)
        } catch let VisageError.internalFailure(message) where message.contains("HTTP 404") {
            return nil
        }
    }

    /// The size of the parts larger blobs are written in; the bucket's ETag of such a blob is the
    /// MD5 of the parts' MD5 digests, a dash and the part count (of one that fits, its MD5).
    public var partSize: Int { connection.settings.partSize }
}
