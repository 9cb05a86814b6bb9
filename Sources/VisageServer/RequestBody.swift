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
