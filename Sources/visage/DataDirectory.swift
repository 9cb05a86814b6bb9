import Foundation
import Logging
import VisageAccess
import VisageServer
import VisageStore

extension DataOptions {
    /// Opens the data directory's stores for a command-line tool, runs `body`, and closes them.
    func withObjectStore<T: Sendable>(
        _ body: (LocalDiskObjectStore, _ accountID: String) async throws -> T
    ) async throws -> T {
        var logLevelDefault = self
        if logLevelDefault.logLevel == nil && Environment.value("VISAGE_LOG_LEVEL") == nil { logLevelDefault.logLevel = "warning" }
        let logger = try logLevelDefault.makeLogger(label: "visage")
        let configuration = ServerConfiguration(dataDirectory: resolvedDataDirectory, databaseURL: resolvedDatabaseURL)
        let layout = configuration.layout
        try layout.create()
        return try await MetadataStore.withStore(at: try configuration.databaseLocation(), logger: logger) { store in
            let directory = AccessKeyDirectory(store: store, box: try SecretBox.loadOrCreate(keyFile: layout.secretKeyFile))
            let outcome = try await RootBootstrap(directory: directory, credentialsFile: layout.rootCredentialsFile)
                .run(fixedKeyID: Environment.value("VISAGE_ROOT_ACCESS_KEY_ID"),
                     fixedSecret: Environment.value("VISAGE_ROOT_ACCESS_KEY_SECRET"))
            if outcome.created {
                FileHandle.standardError.write(Data("Created the root account; its key pair is in \(layout.rootCredentialsFile.path)\n".utf8))
            }
            let objects = try LocalDiskObjectStore(directory: layout.objectsDirectory, store: store)
            return try await body(objects, outcome.credentials.AccountId)
        }
    }
}
