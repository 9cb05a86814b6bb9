import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VisageAccess
import VisageCore
import VisageStore

/// The parts a running server is built from, opened by `VisageServer.run`.
public struct ServerComponents: Sendable {
    public let configuration: ServerConfiguration
    public let store: MetadataStore
    public let objects: LocalDiskObjectStore
    public let metrics: HTTPMetrics
    public let assets: WebAssets

    public init(configuration: ServerConfiguration, store: MetadataStore, objects: LocalDiskObjectStore,
                metrics: HTTPMetrics = HTTPMetrics(), assets: WebAssets) {
        self.configuration = configuration
        self.store = store
        self.objects = objects
        self.metrics = metrics
        self.assets = assets
    }
}

/// Builds and runs the HTTP application.
public enum VisageServer {
    /// The router with every route and middleware; one port serves all dialects.
    public static func makeRouter(_ components: ServerComponents) -> Router<VisageContext> {
        let router = Router(context: VisageContext.self)
        router.add(middleware: RequestEnvelopeMiddleware(metrics: components.metrics))
        let rpc = RPCRouter(maxBodyBytes: components.configuration.maxRequestBodyBytes)
        router.add(middleware: DialectDispatchMiddleware(rpc: rpc))
        OperationsRoutes(store: components.store, metrics: components.metrics).add(to: router)
        WebUIRoutes(assets: components.assets).add(to: router)
        return router
    }

    public static func makeApplication(
        _ components: ServerComponents, logger: Logger, services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = components.configuration
        return Application(
            router: makeRouter(components),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Visage"),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Opens the data directory and stores, bootstraps the root account, and serves until
    /// SIGTERM or SIGINT; then in-flight requests finish and queued work is handed back.
    public static func run(_ configuration: ServerConfiguration, logger: Logger,
                           announce: @escaping @Sendable (String) -> Void) async throws {
        let layout = configuration.layout
        try layout.create()
        let location = try configuration.databaseLocation()
        logger.info("opening metadata store", metadata: ["database": "\(location.redacted)"])
        try await MetadataStore.withStore(at: location, logger: logger) { store in
            let box = try SecretBox.loadOrCreate(keyFile: layout.secretKeyFile)
            let bootstrap = RootBootstrap(
                directory: AccessKeyDirectory(store: store, box: box), credentialsFile: layout.rootCredentialsFile)
            let outcome = try await bootstrap.run(
                fixedKeyID: configuration.rootAccessKeyID, fixedSecret: configuration.rootAccessKeySecret)
            if outcome.created {
                announce("""
                    Root account \(outcome.credentials.AccountId)
                      AccessKeyId:     \(outcome.credentials.AccessKeyId)
                      AccessKeySecret: \(outcome.credentials.AccessKeySecret)
                    Saved to \(layout.rootCredentialsFile.path) (mode 0600). This is the only time it is printed.
                    """)
            }
            let objects = try LocalDiskObjectStore(directory: layout.objectsDirectory, store: store)
            let removed = try await objects.recover()
            if removed > 0 { logger.notice("removed files left by interrupted writes", metadata: ["count": "\(removed)"]) }
            let components = ServerComponents(
                configuration: configuration, store: store, objects: objects, assets: try WebAssets())
            let app = makeApplication(components, logger: logger) { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
                announce("Visage is listening on http://\(address ?? "\(configuration.host):\(configuration.port)")/")
            }
            try await app.runService()
        }
    }
}
