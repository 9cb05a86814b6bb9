import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageServer
import VisageStore

extension DataOptions {
    /// Opens the data directory for a terminal command, runs `body` with the object store, and closes it.
    func withObjectStore<T: Sendable>(
        creating: Bool = false, _ body: (any ObjectStore, _ accountID: String) async throws -> T
    ) async throws -> T {
        try await withDataDirectory(creating: creating) { opened in try await body(opened.objects, opened.root.credentials.AccountId) }
    }

    /// Opens the data directory for a terminal command, runs `body` with the root account's
    /// identity directory, and closes it.
    func withIdentities<T: Sendable>(creating: Bool = false,
                                     _ body: (IdentityDirectory, _ accountID: String) async throws -> T) async throws -> T {
        try await withDataDirectory(creating: creating) { opened in
            let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
            return try await body(identities, opened.root.credentials.AccountId)
        }
    }

    /// Only commands that put something in (`creating`) start a data directory; the others refuse
    /// a missing one instead of creating an empty one with a new root account by mistake.
    func withDataDirectory<T: Sendable>(creating: Bool = false, _ body: (OpenedDataDirectory) async throws -> T) async throws -> T {
        let folder = resolvedDataDirectory
        guard creating || FileManager.default.fileExists(atPath: folder.path) else {
            throw CommandFailure("no data directory at \(folder.path): name one with --data or VISAGE_DATA (visage serve or visage index starts one)")
        }
        var quiet = self
        if quiet.logLevel == nil && Environment.value("VISAGE_LOG_LEVEL") == nil { quiet.logLevel = "warning" }
        let configuration = try self.configuration
        return try await OpenedDataDirectory.with(configuration, logger: try quiet.makeLogger(label: "visage")) { opened in
            if opened.root.created {
                FileHandle.standardError.write(Data(
                    "Created the root account; its key pair is in \(configuration.layout.rootCredentialsFile.path)\n".utf8))
            }
            return try await body(opened)
        }
    }
}

extension OpenedDataDirectory {
    /// Creates the root account's bucket and media project where they are missing.
    func ensure(bucket: BucketName, project: String, description: String? = nil) async throws {
        let account = root.credentials.AccountId
        if (try? await objects.bucket(bucket)) == nil { _ = try await objects.createBucket(bucket, ownerAccount: account) }
        let projects = ProjectCatalog(store: store)
        if (try? await projects.project(account: account, name: project)) == nil {
            _ = try await projects.create(account: account, name: project, description: description, serviceRole: nil, templateID: nil)
        }
    }
}
