import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VisageCore
import VisageStore

/// Blobs as objects of an S3-compatible bucket, under `prefix` + blob id (never the object key,
/// so every key shape fits). The catalog stays in the metadata store; the bucket holds only bytes.
/// Writes stream: at most one part (`S3Settings.partSize`) of a blob is in memory at a time.
public struct S3BlobStore: BlobStore {
    let connection: S3Connection

    /// Runs `body` with a store on `settings`, and closes its connections afterwards.
    public static func with<T: Sendable>(_ settings: S3Settings, logger: Logger,
                                         _ body: (S3BlobStore) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let store = S3BlobStore(connection: S3Connection(settings: settings, http: http, logger: logger))
        do {
            let result = try await body(store)
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    public var settings: S3Settings { connection.settings }

    public func create() async throws -> any BlobWrite {
        S3BlobWrite(id: Identifiers.opaque(), connection: connection)
    }

    public func read(_ id: String, from start: Int64, to end: Int64) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        let reader = S3RangedRead(connection: connection, key: connection.key(of: id), start: start, end: end)
        // Opened here, so a missing blob or an unreachable backend fails the call before any byte is sent.
        try await reader.open()
        return AsyncThrowingStream { try await reader.next() }
    }

    public func remove(_ id: String) async {
        // A failure leaves an unreferenced blob, which the sweeper removes later.
        _ = try? await connection.send(.DELETE, key: connection.key(of: id), what: "delete blob \(id)")
    }

    public var sweepsAtStart: Bool { false }

    public func checkReachable() async throws {
        _ = try await connection.call(.GET, key: nil, query: [("list-type", "2"), ("max-keys", "1"), ("prefix", connection.settings.prefix)],
                                      what: "list the bucket")
    }

    /// Copies on the service side (one request up to 5 GiB; larger blobs are streamed by the caller).
    public func duplicate(_ id: String, size: Int64) async throws -> (any BlobWrite)? {
        guard size <= 5 * 1024 * 1024 * 1024 else { return nil }
        let copy = S3BlobWrite(id: Identifiers.opaque(), connection: connection)
        let source = "/" + connection.settings.bucket + "/" + connection.key(of: id)
        _ = try await connection.call(.PUT, key: connection.key(of: copy.id),
                                      headers: [("x-amz-copy-source", S3BlobStore.encodeCopySource(source))],
                                      what: "copy blob \(id)")
        await copy.markCommitted()
        return copy
    }

    static func encodeCopySource(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            String(segment).addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? String(segment)
        }.joined(separator: "/")
    }

    /// Removes blobs under the prefix that no catalog row refers to and that are older than the
    /// grace period (younger ones may belong to a write whose row is being committed), and aborts
    /// the backend's multipart uploads under the prefix older than `abandonedUploadAge` (writes
    /// whose process died). Returns how many blobs and uploads it removed.
    public func sweep(isReferenced: @escaping @Sendable (String) async throws -> Bool) async throws -> Int {
        let settings = connection.settings
        let cutoff = Date().addingTimeInterval(-Self.seconds(settings.sweepGrace))
        var removed = 0
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", settings.prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, body) = try await connection.call(.GET, key: nil, query: query, what: "list blobs")
            let text = String(decoding: body, as: UTF8.self)
            for entry in S3XML.all("Contents", in: text[...]) {
                guard let key = S3XML.all("Key", in: entry).first.map({ S3XML.unescape($0) }), key.hasPrefix(settings.prefix),
                      let modified = S3XML.all("LastModified", in: entry).first.flatMap({ S3XML.date(String($0)) }),
                      modified < cutoff
                else { continue }
                let id = String(key.dropFirst(settings.prefix.count))
                if try await !isReferenced(id) {
                    _ = try await connection.send(.DELETE, key: key, what: "delete blob \(id)")
                    removed += 1
                }
            }
            let truncated = S3XML.all("IsTruncated", in: text[...]).first == "true"
            token = truncated ? S3XML.all("NextContinuationToken", in: text[...]).first.map { S3XML.unescape($0) } : nil
        } while token != nil
        removed += try await abortAbandonedUploads()
        return removed
    }

    private func abortAbandonedUploads() async throws -> Int {
        let settings = connection.settings
        let cutoff = Date().addingTimeInterval(-Self.seconds(settings.abandonedUploadAge))
        let (_, body) = try await connection.call(.GET, key: nil, query: [("prefix", settings.prefix), ("uploads", "")],
                                                  what: "list unfinished uploads")
        var aborted = 0
        for entry in S3XML.all("Upload", in: String(decoding: body, as: UTF8.self)[...]) {
            guard let key = S3XML.all("Key", in: entry).first.map({ S3XML.unescape($0) }),
                  let upload = S3XML.all("UploadId", in: entry).first.map({ S3XML.unescape($0) }),
                  let initiated = S3XML.all("Initiated", in: entry).first.flatMap({ S3XML.date(String($0)) }),
                  initiated < cutoff, key.hasPrefix(settings.prefix)
            else { continue }
            _ = try await connection.send(.DELETE, key: key, query: [("uploadId", upload)], what: "abort upload of \(key)")
            aborted += 1
        }
        return aborted
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
