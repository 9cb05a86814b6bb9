/// A validated bucket name: 3–63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`,
/// and none of the top-level names the server's own routes use.
public struct BucketName: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// Top-level path segments that belong to Visage's own routes and other dialects, so they can
    /// never be bucket names (`/ui/...` must never be read as bucket `ui`).
    public static let reserved: Set<String> = [
        "ui", "green", "face", "healthz", "metrics", "visage", "api", "static", "favicon.ico",
    ]

    public init(_ value: String) throws {
        let bytes = Array(value.utf8)
        guard (3...63).contains(bytes.count) else {
            throw VisageError.objectRejected(.invalidBucketName, message: "a bucket name has 3 to 63 characters")
        }
        let allowed = bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard allowed, bytes.first != 0x2D, bytes.last != 0x2D else {
            throw VisageError.invalidArgument(
                field: "BucketName",
                message: "a bucket name uses lower-case letters, digits and '-', and starts and ends with a letter or digit")
        }
        guard !Self.reserved.contains(value) else {
            throw VisageError.objectRejected(.invalidBucketName, message: "'\(value)' is reserved by the server")
        }
        self.value = value
    }

    public var description: String { value }
}

/// A validated object key. Keys are opaque names: they never become file-system paths, so `../`
/// or a leading `/` is just text. Refused are the empty key, keys over 1023 bytes, and NUL.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public static let maxBytes = 1023
    public let value: String

    public init(_ value: String) throws {
        let count = value.utf8.count
        guard count > 0 else {
            throw VisageError.objectRejected(.invalidObjectKey, message: "the object key is empty")
        }
        guard count <= Self.maxBytes else {
            throw VisageError.objectRejected(.invalidObjectKey, message: "the object key is longer than \(Self.maxBytes) bytes")
        }
        guard !value.utf8.contains(0) else {
            throw VisageError.objectRejected(.invalidObjectKey, message: "the object key contains a NUL character")
        }
        self.value = value
    }

    /// Decodes a key from raw bytes, refusing anything that is not valid UTF-8.
    public init(utf8 bytes: some Collection<UInt8>) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw VisageError.objectRejected(.invalidObjectKey, message: "the object key is not valid UTF-8")
        }
        try self.init(text)
    }

    public var description: String { value }
}
