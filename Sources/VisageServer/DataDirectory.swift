import Foundation
import Logging
import VisageAccess
import VisageS3Blobs
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
            return try await withBlobStore(configuration, logger: logger) { blobs in
                let objects: any ObjectStore = CatalogObjectStore(blobs: blobs, store: store)
                let removed = try await objects.recover()
                if removed > 0 { logger.notice("removed files left by interrupted writes", metadata: ["count": "\(removed)"]) }
                return try await body(OpenedDataDirectory(store: store, objects: objects, root: root, box: box))
            }
        }
    }

    /// Opens the configured blob backend for the duration of `body`: files under the data
    /// directory, or an S3-compatible bucket (whose connections close afterwards).
    static func withBlobStore<T: Sendable>(_ configuration: ServerConfiguration, logger: Logger,
                                           _ body: (any BlobStore) async throws -> T) async throws -> T {
        guard let settings = configuration.objectBackend else {
            return try await body(try LocalBlobFiles(root: configuration.layout.objectsDirectory))
        }
        logger.info("object bytes in an S3-compatible bucket", metadata: ["location": "\(settings.description)"])
        return try await S3BlobStore.with(settings, logger: logger) { try await body($0) }
    }
}
