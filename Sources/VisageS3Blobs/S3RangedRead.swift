import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VisageCore

/// Bytes `start..<end` of one blob, pulled from a ranged GET as the reader asks for them (so a
/// slow reader never makes the whole blob sit in memory). When the connection breaks midway, the
/// read resumes with a new ranged GET from the first byte not yet delivered.
final class S3RangedRead: @unchecked Sendable {
    // Touched only by `open` and then by the stream's pulls, which never overlap.
    private let connection: S3Connection
    private let key: String
    private var offset: Int64
    private let end: Int64
    private var body: HTTPClientResponse.Body.AsyncIterator?
    private var failures = 0

    init(connection: S3Connection, key: String, start: Int64, end: Int64) {
        self.connection = connection
        self.key = key
        self.offset = start
        self.end = end
    }

    func open() async throws {
        guard offset < end else { return }
        let response = try await connection.send(.GET, key: key, headers: [("range", "bytes=\(offset)-\(end - 1)")],
                                                 what: "read blob \(key)")
        body = response.body.makeAsyncIterator()
    }

    func next() async throws -> [UInt8]? {
        while offset < end {
            if body == nil { try await open() }
            do {
                var iterator = body!
                let next = try await iterator.next()
                body = iterator
                guard let buffer = next else {
                    throw S3ServiceError(status: 502, code: "IncompleteBody", message: "the answer ended before its last byte")
                }
                var bytes = Array(buffer: buffer)
                if offset + Int64(bytes.count) > end { bytes.removeLast(Int(offset + Int64(bytes.count) - end)) }
                offset += Int64(bytes.count)
                if !bytes.isEmpty { return bytes }
            } catch let error as CancellationError {
                throw error
            } catch {
                failures += 1
                body = nil
                try await connection.retryOrThrow(error, attempt: failures, what: "read blob \(key)")
            }
        }
        return nil
    }
}
