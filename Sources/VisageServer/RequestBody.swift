import Hummingbird
import NIOCore

extension Request {
    /// The whole body, refused with EntityTooLarge naming `limit` when it is longer (NIO's own
    /// error reports its internal buffer size, not the limit).
    func collectBody(upTo limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw WireError(status: .contentTooLarge, code: "EntityTooLarge", message: "The request body is larger than \(limit) bytes.")
        }
    }
}

/// A streamed body (an object's bytes) as blocks of `size` bytes, the last one shorter, each
/// copied once out of the buffers the connection read. A socket read gives some tens of
/// kilobytes; the object store hashes and writes a block at a time, and hashing one block
/// overlaps receiving and writing the next (`CatalogObjectStore.writeBlob`). 256 KiB makes a
/// 64 MB body 256 writes instead of a thousand or more, and still overlaps within a 1 MB one.
struct BodyBlocks<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = [UInt8]
    typealias Failure = any Error

    static var defaultSize: Int { 256 << 10 }

    let base: Base
    var size = Self.defaultSize

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let size: Int
        /// Bytes of a buffer read but not yet handed out (a buffer may span two blocks).
        var carried: ByteBuffer?
        var ended = false

        mutating func next() async throws -> [UInt8]? {
            var block: [UInt8] = []
            while block.count < size {
                var buffer: ByteBuffer
                if let rest = carried {
                    buffer = rest
                    carried = nil
                } else if !ended, let read = try await base.next() {
                    buffer = read
                } else {
                    ended = true
                    break
                }
                if block.isEmpty { block.reserveCapacity(size) }
                let taken = Swift.min(buffer.readableBytes, size - block.count)
                buffer.withUnsafeReadableBytes { block.append(contentsOf: $0.prefix(taken)) }
                buffer.moveReaderIndex(forwardBy: taken)
                if buffer.readableBytes > 0 { carried = buffer }
            }
            return block.isEmpty ? nil : block
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), size: size) }
}

extension RequestBody {
    /// The body as blocks for the object store (`BodyBlocks`).
    var blocks: BodyBlocks<RequestBody> { BodyBlocks(base: self) }
}
