import Crypto
import Foundation
import VisageSigning

/// Decodes an `aws-chunked` body as it arrives: `hex-size[;chunk-signature=sig]\r\n`, the bytes,
/// `\r\n`, …, a zero-size chunk, then optional trailer lines (`name:value\r\n`) and an empty line.
/// With a signature chain every chunk's signature is checked when its last byte has arrived and
/// the zero-size chunk's before the body ends, so a body with one bad chunk never completes.
struct AWSChunkedDecoder: Sendable {
    enum Failure: Error, Equatable {
        case malformed(String)
        case signatureMismatch
    }

    private enum State: Sendable {
        case size, data(remaining: Int), dataEnd, trailer, done
    }

    private var state = State.size
    private var line: [UInt8] = []
    private var chain: ChunkSignatureChain?
    private var chunkSignature: String?
    private var chunkHash = SHA256()
    private var trailerText = ""
    private var trailerSignature: String?
    /// Trailer headers, lower-case names.
    private(set) var trailers: [String: String] = [:]
    private(set) var decodedLength: Int64 = 0

    /// `chain` verifies signed chunks; nil for unsigned ones (which must carry no signature).
    init(chain: ChunkSignatureChain?) { self.chain = chain }

    /// The largest chunk header or trailer line accepted.
    static let maxLine = 4096

    var isComplete: Bool { if case .done = state { return true } else { return false } }

    /// Consumes `bytes`; returns the decoded payload bytes they carried.
    mutating func feed(_ bytes: some Collection<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            switch state {
            case let .data(remaining):
                let end = bytes.index(index, offsetBy: remaining, limitedBy: bytes.endIndex) ?? bytes.endIndex
                let piece = bytes[index..<end]
                out.append(contentsOf: piece)
                if chain != nil { chunkHash.update(data: Array(piece)) }
                let left = remaining - piece.count
                index = end
                if left == 0 {
                    try endChunk()
                    state = .dataEnd
                } else {
                    state = .data(remaining: left)
                }
            case .done:
                throw Failure.malformed("bytes after the end of the aws-chunked body")
            case .size, .dataEnd, .trailer:
                let byte = bytes[index]
                index = bytes.index(after: index)
                line.append(byte)
                guard line.count <= Self.maxLine else { throw Failure.malformed("a chunk header or trailer line is too long") }
                if line.count >= 2, line[line.count - 2] == 0x0D, byte == 0x0A {
                    let text = String(decoding: line.dropLast(2), as: UTF8.self)
                    line = []
                    try endLine(text)
                }
            }
        }
        decodedLength += Int64(out.count)
        return out
    }

    /// Fails unless the whole body, trailer included, has arrived.
    func finish() throws {
        guard isComplete else { throw Failure.malformed("the aws-chunked body ended early") }
    }

    private mutating func endLine(_ text: String) throws {
        switch state {
        case .size:
            let parts = text.split(separator: ";", maxSplits: 1)
            guard let sizeText = parts.first, let size = Int(sizeText, radix: 16), size >= 0, size <= 1 << 30 else {
                throw Failure.malformed("a chunk size is not hexadecimal")
            }
            chunkSignature = nil
            if parts.count == 2 {
                let extensionText = parts[1]
                guard extensionText.hasPrefix("chunk-signature=") else { throw Failure.malformed("unknown chunk extension") }
                chunkSignature = String(extensionText.dropFirst("chunk-signature=".count))
            }
            guard (chain != nil) == (chunkSignature != nil) else { throw Failure.signatureMismatch }
            chunkHash = SHA256()
            if size == 0 {
                try endChunk()
                state = .trailer
            } else {
                state = .data(remaining: size)
            }
        case .dataEnd:
            guard text.isEmpty else { throw Failure.malformed("a chunk is longer than its size") }
            state = .size
        case .trailer:
            if text.isEmpty {
                if var chain, !trailers.isEmpty || trailerSignature != nil {
                    guard let signature = trailerSignature, chain.verifyTrailer(trailerText, signature: signature) else {
                        throw Failure.signatureMismatch
                    }
                    self.chain = chain
                }
                state = .done
                return
            }
            guard let colon = text.firstIndex(of: ":") else { throw Failure.malformed("a trailer line has no colon") }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "x-amz-trailer-signature" {
                trailerSignature = value
            } else {
                guard trailers.count < 10 else { throw Failure.malformed("too many trailers") }
                trailers[name] = value
                trailerText += "\(name):\(value)\n"
            }
        case .data, .done:
            break
        }
    }

    private mutating func endChunk() throws {
        guard var chain, let signature = chunkSignature else { return }
        let hash = SigningText.hex(chunkHash.finalize())
        guard chain.verifyChunk(dataHash: hash, signature: signature) else { throw Failure.signatureMismatch }
        self.chain = chain
    }
}
