import Foundation
import VisageAccess
import VisageServer
import VisageStore

extension DataOptions {
    /// Opens the data directory for a terminal command, runs `body` with the object store, and closes it.
    func withObjectStore<T: Sendable>(
        _ body: (any ObjectStore, _ accountID: String) async throws -> T
    ) async throws -> T {
        try await withDataDirectory { opened in try await body(opened.objects, opened.root.credentials.AccountId) }
    }

    /// Opens the data directory for a terminal command, runs `body` with the root account's
    /// identity directory, and closes it.
    func withIdentities<T: Sendable>(_ body: (IdentityDirectory, _ accountID: String) async throws -> T) async throws -> T {
        try await withDataDirectory { opened in
            let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
            return try await body(identities, opened.root.credentials.AccountId)
        }
    }

    func withDataDirectory<T: Sendable>(_ body: (OpenedDataDirectory) async throws -> T) async throws -> T {
        var quiet = self
        if quiet.logLevel == nil && Environment.value("VISAGE_LOG_LEVEL") == nil { quiet.logLevel = "warning" }
        let configuration = self.configuration
        return try await OpenedDataDirectory.with(configuration, logger: try quiet.makeLogger(label: "visage")) { opened in
            if opened.root.created {
                FileHandle.standardError.write(Data(
                    "Created the root account; its key pair is in \(configuration.layout.rootCredentialsFile.path)\n".utf8))
            }
            return try await body(opened)
        }
    }
}
