import CIsal
import NIOCore
import VisageStore

/// When a GET's body is sent gzip-compressed, as OSS does: the client accepts gzip, the object
/// is text-like and at least 1 KB, and the whole object is asked for.
enum GzipPolicy {
    static let minimumSize: Int64 = 1024
    static let types: Set = [
        "text/cache-manifest", "text/css", "text/plain", "text/javascript", "text/xml", "text/x-component", "text/html",
        "application/javascript", "application/x-javascript", "application/xml", "application/json", "application/xhtml+xml",
        "application/rss+xml", "application/atom+xml", "application/vnd.ms-fontobject", "application/x-font-ttf",
        "application/x-font-opentype", "application/x-font-truetype", "image/svg+xml", "image/x-icon", "font/opentype",
    ]

    static func accepts(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        return acceptEncoding.split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            return parts.first == "gzip" && !parts.dropFirst().contains { $0 == "q=0" || $0 == "q=0.0" }
        }
    }

    static func compressible(_ info: ObjectInfo) -> Bool {
        let type = info.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return info.size >= minimumSize && types.contains(type)
    }
}

/// A byte stream compressed with gzip (ISA-L, level 1) as it is read, chunk for chunk, so a large
/// object is never held in memory and a slow client slows the read.
struct GzipSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == [UInt8] {
    typealias Element = ByteBuffer
    let base: Base

    func makeAsyncIterator() -> Iterator { Iterator(upstream: base.makeAsyncIterator()) }

    struct Iterator: AsyncIteratorProtocol {
        var upstream: Base.AsyncIterator
        let compressor = GzipCompressor()
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            while !finished {
                if let chunk = try await upstream.next() {
                    let out = try compressor.compress(chunk, last: false)
                    if !out.isEmpty { return ByteBuffer(bytes: out) }
                } else {
                    finished = true
                    return ByteBuffer(bytes: try compressor.compress([], last: true))
                }
            }
            return nil
        }
    }
}

/// One gzip stream's state in ISA-L.
final class GzipCompressor {
    struct Failure: Error {}
    private let stream: OpaquePointer?

    init() { stream = visage_gzip_new() }

    deinit { visage_gzip_free(stream) }

    func compress(_ input: [UInt8], last: Bool) throws -> [UInt8] {
        guard let stream else { throw Failure() }
        let capacity = visage_gzip_bound(input.count)
        var output = [UInt8](repeating: 0, count: capacity)
        let written = input.withUnsafeBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                visage_gzip_compress(stream, inBuffer.baseAddress, inBuffer.count, last ? 1 : 0, outBuffer.baseAddress, capacity)
            }
        }
        guard written >= 0 else { throw Failure() }
        output.removeLast(capacity - written)
        return output
    }
}

