import CIsal
import Crypto
import Foundation
import HTTPTypes

/// One of the additional checksums S3 clients send with a body (`x-amz-checksum-crc32`, …), in a
/// header or an aws-chunked trailer: the big-endian digest, base64-encoded.
struct S3Checksum: Sendable {
    enum Algorithm: String, Sendable, CaseIterable {
        case crc32, crc32c, sha1, sha256

        /// `x-amz-checksum-crc32`, …
        var header: String { "x-amz-checksum-\(rawValue)" }
        /// `CRC32`, … as `x-amz-checksum-algorithm` and XML elements name it.
        var name: String { rawValue.uppercased() }
    }

    let algorithm: Algorithm
    private var crc: UInt32 = 0
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()

    init(_ algorithm: Algorithm) { self.algorithm = algorithm }

    mutating func update(_ bytes: [UInt8]) {
        switch algorithm {
        case .crc32: crc = bytes.withUnsafeBufferPointer { visage_crc32(crc, $0.baseAddress, $0.count) }
        case .crc32c: crc = bytes.withUnsafeBufferPointer { visage_crc32c(crc, $0.baseAddress, $0.count) }
        case .sha1: sha1.update(data: bytes)
        case .sha256: sha256.update(data: bytes)
        }
    }

    /// The digest as the header carries it.
    func finish() -> String {
        switch algorithm {
        case .crc32, .crc32c: return Data([UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
            .base64EncodedString()
        case .sha1: return Data(sha1.finalize()).base64EncodedString()
        case .sha256: return Data(sha256.finalize()).base64EncodedString()
        }
    }

    /// The checksum a request declares: a header with its value, or a trailer named by
    /// `x-amz-trailer` whose value comes at the end of the body.
    static func declared(in headers: HTTPFields) throws -> (algorithm: Algorithm, value: String?)? {
        if let trailer = headers[.amzTrailer]?.lowercased().trimmingCharacters(in: .whitespaces) {
            guard let algorithm = Algorithm.allCases.first(where: { $0.header == trailer }) else {
                throw WireError(status: .badRequest, code: "InvalidRequest", message: "The trailer \(trailer) is not a supported checksum.")
            }
            return (algorithm, nil)
        }
        for algorithm in Algorithm.allCases {
            if let value = headers[HTTPField.Name(algorithm.header)!] { return (algorithm, value) }
        }
        return nil
    }
}
