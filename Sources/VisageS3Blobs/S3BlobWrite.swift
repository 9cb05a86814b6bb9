import Foundation
import NIOHTTP1
import VisageCore
import VisageStore

/// A blob being written to the bucket. Bytes gather up to one part; a blob that fits in one part
/// goes up in one PUT at `commit`, a larger one as a multipart upload whose parts leave as they
/// fill. Nothing is visible under the blob's key before `commit` returns, and every request is
/// sent whole, so each can be retried.
actor S3BlobWrite: BlobWrite {
    nonisolated let id: String
    private let connection: S3Connection
    private var pending: [UInt8] = []
    private var uploadID: String?
    private var parts: [(number: Int, etag: String)] = []
    private var committed = false

    init(id: String, connection: S3Connection) {
        self.id = id
        self.connection = connection
    }

    private var key: String { connection.key(of: id) }

    func write(_ bytes: [UInt8]) async throws {
        let partSize = connection.settings.partSize
        var offset = 0
        while offset < bytes.count {
            let take = min(partSize - pending.count, bytes.count - offset)
            pending += bytes[offset..<(offset + take)]
            offset += take
            if pending.count == partSize { try await sendPart() }
        }
    }

    /// Sends what has gathered as the next part, starting the multipart upload on the first.
    private func sendPart() async throws {
        if uploadID == nil {
            let (_, body) = try await connection.call(.POST, key: key, query: [("uploads", "")], what: "start a multipart blob upload")
            guard let upload = S3XML.first("UploadId", in: body) else {
                throw VisageError.internalFailure(message: "the object backend started an upload without naming it")
            }
            uploadID = upload
        }
        let number = parts.count + 1
        let response = try await connection.send(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID!)],
                                                 body: pending, what: "upload part \(number) of blob \(id)")
        guard let etag = response.headers.first(name: "etag") else {
            throw VisageError.internalFailure(message: "the object backend stored a part without an ETag")
        }
        parts.append((number, etag))
        pending.removeAll(keepingCapacity: true)
    }

    func commit() async throws {
        if let uploadID {
            if !pending.isEmpty { try await sendPart() }
            let list = parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(S3XML.escape($0.etag))</ETag></Part>" }.joined()
            _ = try await connection.call(.POST, key: key, query: [("uploadId", uploadID)],
                                          body: Array("<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>".utf8),
                                          what: "complete blob \(id)")
        } else {
            _ = try await connection.send(.PUT, key: key, body: pending, what: "store blob \(id)")
        }
        pending = []
        committed = true
    }

    /// For a copy the service made: the blob already exists under its key.
    func markCommitted() { committed = true }

    func discard() async {
        // Failures leave a blob no row refers to (or an unfinished upload); the sweeper takes them later.
        if let uploadID, !committed {
            _ = try? await connection.send(.DELETE, key: key, query: [("uploadId", uploadID)], what: "abort blob \(id)")
        }
        if committed {
            _ = try? await connection.send(.DELETE, key: key, what: "delete blob \(id)")
        }
        pending = []
    }

    func close() {}
}
