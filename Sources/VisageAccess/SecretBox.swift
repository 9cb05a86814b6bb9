import Crypto
import Foundation
import VisageCore

/// Seals secrets (access key secrets) with AES-256-GCM under a key that lives in its own 0600 file
/// in the data directory, so that a copy of the database alone does not reveal them. Each sealed
/// value is bound to its record id, so a sealed secret moved to another row does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// A box with a fresh random key that lives only in memory: for tests and throw-away servers.
    public static func ephemeral() -> SecretBox {
        SecretBox(key: SymmetricKey(size: .bits256))
    }

    /// Loads the key file, creating it (32 random bytes, mode 0600) on first use.
    public static func loadOrCreate(keyFile: URL) throws -> SecretBox {
        let manager = FileManager.default
        if let data = manager.contents(atPath: keyFile.path) {
            guard data.count == 32 else {
                throw VisageError.internalFailure(message: "\(keyFile.path) is not a 32-byte key file")
            }
            return SecretBox(key: SymmetricKey(data: data))
        }
        try manager.createDirectory(at: keyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        try PrivateFile.write(bytes, to: keyFile)
        return SecretBox(key: key)
    }

    /// A key for another purpose, derived from this one (HKDF-SHA256), so one key file serves all.
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    public func seal(_ secret: String, boundTo id: String) throws -> String {
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(id.utf8))
        guard let combined = box.combined else {
            throw VisageError.internalFailure(message: "cannot seal secret")
        }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String, boundTo id: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else {
            throw VisageError.internalFailure(message: "sealed secret is not base64")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(id.utf8)), as: UTF8.self)
        } catch {
            throw VisageError.internalFailure(message: "sealed secret does not open with this data directory's key")
        }
    }
}

/// Writes files readable by their owner only.
public enum PrivateFile {
    /// Writes `data` to `url` with mode 0600, atomically (temp file, then rename).
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(Identifiers.opaque())")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw VisageError.internalFailure(message: "cannot write \(tmp.path)")
        }
        guard rename(tmp.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw VisageError.internalFailure(message: "cannot write \(url.path)")
        }
    }
}
