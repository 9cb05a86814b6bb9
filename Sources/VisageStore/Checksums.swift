import VisageCore
import CIsal
import Crypto

/// CRC-64/ECMA-182 in its reflected form (the checksum OSS reports as `x-oss-hash-crc64ecma`),
/// computed by ISA-L as bytes stream past.
public struct CRC64: Sendable, Equatable {
    public private(set) var value: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        value = bytes.withUnsafeBufferPointer { visage_crc64(value, $0.baseAddress, $0.count) }
    }

    public static func of(_ bytes: [UInt8]) -> UInt64 {
        var crc = CRC64()
        crc.update(bytes)
        return crc.value
    }
}

/// The ETag of an object assembled from parts, as OSS and S3 write it: the MD5 of the parts'
/// MD5 digests, a dash, and the number of parts.
enum MultipartETag {
    static func of(partETags: [String]) -> String {
        var md5 = Insecure.MD5()
        for etag in partETags { md5.update(data: hexBytes(etag)) }
        return Array(md5.finalize()).hexString + "-\(partETags.count)"
    }

    private static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in hex.utf8 {
            guard let nibble = character.hexValue else { continue }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}

private extension UInt8 {
    var hexValue: UInt8? {
        switch self {
        case 0x30...0x39: return self - 0x30
        case 0x61...0x66: return self - 0x61 + 10
        case 0x41...0x46: return self - 0x41 + 10
        default: return nil
        }
    }
}
