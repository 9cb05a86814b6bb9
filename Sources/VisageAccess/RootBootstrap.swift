import Foundation
import VisageCore
import VisageStore

/// The root account's credentials, as written to `root-credentials.json`.
public struct RootCredentials: Codable, Sendable, Equatable {
    public let AccountId: String
    public let AccessKeyId: String
    public let AccessKeySecret: String
}

/// Creates the root account and its first access key on first start, or applies the key pair
/// given by `VISAGE_ROOT_ACCESS_KEY_ID` / `VISAGE_ROOT_ACCESS_KEY_SECRET`.
public struct RootBootstrap: Sendable {
    /// What happened: whether credentials were created now (and so should be shown once).
    public struct Outcome: Sendable {
        public let credentials: RootCredentials
        public let created: Bool
    }

    let directory: AccessKeyDirectory
    let credentialsFile: URL

    public init(directory: AccessKeyDirectory, credentialsFile: URL) {
        self.directory = directory
        self.credentialsFile = credentialsFile
    }

    public func run(fixedKeyID: String?, fixedSecret: String?) async throws -> Outcome {
        let fixed = try Self.validatedFixedPair(id: fixedKeyID, secret: fixedSecret)
        var created = false
        let accountID: String
        if let existing = try await directory.accountIDs().first {
            accountID = existing
        } else {
            accountID = Identifiers.accountID()
            try await directory.createAccount(id: accountID, name: "root")
            created = true
        }
        let rootKeys = try await directory.keys(accountID: accountID, principal: "root")
        let key: AccessKey
        if let fixed {
            key = AccessKey(id: fixed.id, secret: fixed.secret, accountID: accountID, principal: "root",
                            status: .active, created: rootKeys.first { $0.id == fixed.id }?.created ?? Date())
            if rootKeys.first(where: { $0.id == fixed.id }) != key {
                if let other = try await directory.key(id: fixed.id), other.accountID != accountID || other.principal != "root" {
                    throw VisageError.conflict(kind: .accessKey, name: fixed.id,
                                               message: "access key \(fixed.id) already belongs to another principal")
                }
                try await directory.put(key)
                created = true
            }
        } else if let first = rootKeys.first(where: { $0.status == .active }) {
            key = first
        } else {
            key = AccessKey(id: Identifiers.accessKeyID(), secret: Identifiers.accessKeySecret(), accountID: accountID,
                            principal: "root", status: .active, created: Date())
            try await directory.put(key)
            created = true
        }
        let credentials = RootCredentials(AccountId: accountID, AccessKeyId: key.id, AccessKeySecret: key.secret)
        let onDisk = FileManager.default.contents(atPath: credentialsFile.path)
            .flatMap { try? JSONDecoder().decode(RootCredentials.self, from: $0) }
        if onDisk != credentials {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try PrivateFile.write(try encoder.encode(credentials) + Data("\n".utf8), to: credentialsFile)
        }
        return Outcome(credentials: credentials, created: created)
    }

    static func validatedFixedPair(id: String?, secret: String?) throws -> (id: String, secret: String)? {
        let id = id.flatMap { $0.isEmpty ? nil : $0 }
        let secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (nil, nil): return nil
        case let (id?, secret?):
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
            guard (8...128).contains(id.count), id.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }),
                  !id.hasPrefix("STS.")
            else {
                throw VisageError.invalidArgument(
                    field: "VISAGE_ROOT_ACCESS_KEY_ID",
                    message: "use 8 to 128 ASCII letters, digits, '.', '_' or '-', not starting with 'STS.'")
            }
            guard (16...256).contains(secret.count), secret.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
                throw VisageError.invalidArgument(
                    field: "VISAGE_ROOT_ACCESS_KEY_SECRET", message: "use 16 to 256 printable ASCII characters")
            }
            return (id, secret)
        default:
            throw VisageError.invalidArgument(
                field: "VISAGE_ROOT_ACCESS_KEY_ID", message: "set both VISAGE_ROOT_ACCESS_KEY_ID and VISAGE_ROOT_ACCESS_KEY_SECRET, or neither")
        }
    }
}
