import Foundation
import Logging
import VisageAccess
import VisageStore

/// A data directory opened for use: the metadata store, the object store and the root account.
/// The server and the terminal commands open it the same way.
public struct OpenedDataDirectory: Sendable {
    public let store: MetadataStore
    public let objects: any ObjectStore
    public let root: RootBootstrap.Outcome
    /// Seals secrets at rest and keys the temporary-credential tokens.
    public let box: SecretBox

    /// Creates the directory if needed, opens the stores, bootstraps the root account, removes
    /// what interrupted writes left, runs `body`, and closes everything again.
    public static func with<T: Sendable>(
        _ configuration: ServerConfiguration, logger: Logger, _ body: (OpenedDataDirectory) async throws -> T
    ) async throws -> T {
        let layout = configuration.layout
        try layout.create()
        let location = try configuration.databaseLocation()
        logger.info("opening metadata store", metadata: ["database": "\(location.redacted)"])
        return try await MetadataStore.withStore(at: location, logger: logger) { store in
            let box = try SecretBox.loadOrCreate(keyFile: layout.secretKeyFile)
            let root = try await RootBootstrap(
                directory: AccessKeyDirectory(store: store, box: box), credentialsFile: layout.rootCredentialsFile
            ).run(fixedKeyID: configuration.rootAccessKeyID, fixedSecret: configuration.rootAccessKeySecret)
            let objects: any ObjectStore = CatalogObjectStore(blobs: try LocalBlobFiles(root: layout.objectsDirectory), store: store)
            let removed = try await objects.recover()
            if removed > 0 { logger.notice("removed files left by interrupted writes", metadata: ["count": "\(removed)"]) }
            return try await body(OpenedDataDirectory(store: store, objects: objects, root: root, box: box))
        }
    }
}
