import Foundation
import CLinux
import Crypto
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import VisageAccess
import VisageCore
import VisageJobs
import VisageMedia
import VisageVision
import VisageStore

/// The parts a running server is built from, opened by `VisageServer.run`.
public struct ServerComponents: Sendable {
    public let configuration: ServerConfiguration
    public let store: MetadataStore
    public let objects: any ObjectStore
    public let metrics: HTTPMetrics
    public let assets: WebAssets
    public let access: AccessServices
    public let faces: SharedFaceEngine
    /// The moderation models, loaded on first use.
    public let moderator: SharedContentModerator
    /// Human reviews of moderated images.
    public let reviews: ModerationReviews
    public let outbox: NotificationOutbox
    public let indexing: MediaIndexing
    public let bindings: DatasetBindings
    public let clustering: FigureClustering
    public let comparisons: FaceComparisons
    /// Signs outgoing notifications (derived from the data directory's key).
    public let notificationKey: SymmetricKey
    /// Keys presented whole in a header (the Face API's subscription keys).
    public let apiKeys: APIKeyDirectory
    public let liveness: LivenessSessions

    public init(configuration: ServerConfiguration, store: MetadataStore, objects: any ObjectStore, box: SecretBox,
                metrics: HTTPMetrics = HTTPMetrics(), assets: WebAssets, faces: SharedFaceEngine = SharedFaceEngine(),
                moderator: SharedContentModerator = SharedContentModerator()) {
        self.configuration = configuration
        self.store = store
        self.objects = objects
        self.metrics = metrics
        self.assets = assets
        self.access = AccessServices(store: store, box: box)
        self.faces = faces
        self.moderator = moderator
        self.reviews = ModerationReviews(store: store, settings: configuration.reviews)
        self.outbox = NotificationOutbox(store: store, settings: configuration.notifications)
        let indexer = FileIndexer(objects: objects, engine: faces,
                                  access: ServiceRoleAccess(identities: access.identities, objects: objects))
        // One durable queue; indexing and clustering each use their own queue name in it.
        let queue = TaskQueue(store: store, lease: configuration.taskLease, backoffBase: configuration.taskRetryDelay)
        let events = IMMTaskEvents(region: configuration.region)
        self.indexing = MediaIndexing(store: store, indexer: indexer, queue: queue, outbox: outbox, events: events)
        self.bindings = DatasetBindings(store: store, objects: objects, indexing: indexing)
        self.clustering = FigureClustering(store: store, queue: queue, outbox: outbox, events: events, vectorsDirectory: configuration.layout.vectorsDirectory)
        self.comparisons = FaceComparisons(
            store: store, queue: queue, outbox: outbox,
            comparison: PairComparison(objects: objects, engine: faces, outbound: outbox.outbound, limits: configuration.comparisons.fetch),
            settings: configuration.comparisons, formats: [GreenImageOperations.origin: GreenCallbacks()])
        self.notificationKey = box.derivedKey(purpose: NotificationSignature.purpose)
        self.apiKeys = APIKeyDirectory(store: store, box: box, identities: access.identities)
        self.liveness = LivenessSessions(store: store, engine: faces, tokenKey: box.derivedKey(purpose: LivenessTokens.purpose),
                                         settings: configuration.liveness)
    }
}

/// Builds and runs the HTTP application.
public enum VisageServer {
    /// The service name of the Face API's subscription keys (`visage face-keys`).
    public static let faceAPIKeyService = "face"

    /// The router with every route and middleware; one port serves all dialects, the built-in
    /// ones and any `extra` (registered after them, so they cannot take their paths).
    public static func makeRouter(_ components: ServerComponents, extra: [any Dialect] = []) -> Router<VisageContext> {
        let router = Router(context: VisageContext.self)
        guard components.configuration.role.answersRequests else {
            // A worker answers its health and metrics only.
            OperationsRoutes(components).add(to: router)
            return router
        }
        let dialects = dialects(components, extra: extra)
        router.add(middleware: RequestEnvelopeMiddleware(metrics: components.metrics, dialects: dialects))
        router.add(middleware: DialectDispatchMiddleware())
        OperationsRoutes(components).add(to: router)
        WebUIRoutes(assets: components.assets).add(to: router)
        TaskRoutes(tasks: MediaTaskStore(store: components.store), comparisons: components.comparisons).add(to: router)
        PeopleRoutes(store: components.store, objects: components.objects, clustering: components.clustering).add(to: router)
        OverviewRoutes(store: components.store, objects: components.objects).add(to: router)
        ModerationRoutes(reviews: components.reviews,
                         outputs: HumanLoopOutputs(objects: components.objects, bucket: components.configuration.reviewOutputBucket)).add(to: router)
        UploadTokenRoutes(settings: components.configuration.upload, access: components.access,
                          region: components.configuration.region).add(to: router)
        return router
    }

    /// Every dialect the port serves, each registered in one line. Precedence: Rekognition's
    /// marking header, then S3's claim (SigV4-signed requests on any path), then paths; among
    /// requests at `/`: RPC's markers, then OSS signatures, then a browser's GET, then RPC for the
    /// rest. Anonymous requests to buckets are OSS's.
    public static func dialects(_ components: ServerComponents, extra: [any Dialect] = []) -> DialectRegistry {
        var rpc = RPCRouter(maxBodyBytes: components.configuration.maxRequestBodyBytes, access: components.access)
        STSOperations(access: components.access).register(in: &rpc)
        RAMOperations(identities: components.access.identities).register(in: &rpc)
        IMMOperations(store: components.store,
                      readAccess: ServiceRoleAccess(identities: components.access.identities, objects: components.objects),
                      faces: ImageFaces(objects: components.objects, engine: components.faces),
                      comparison: components.comparisons.comparison, indexing: components.indexing,
                      bindings: components.bindings, clustering: components.clustering, outbox: components.outbox,
                      region: components.configuration.region).register(in: &rpc)
        let objectOperations = OSSOperations(objects: components.objects, maxObjectBytes: components.configuration.maxObjectBytes)
        let oss = OSSDialect(router: OSSRouter(operations: objectOperations, access: components.access))
        let green = GreenImageOperations(comparisons: components.comparisons, outbox: components.outbox,
                                         moderator: components.moderator) { url, call in
            try await oss.readableObject(url, reachedAt: call.authority, sourceIP: call.sourceIP, requestID: call.requestID)
        }
        return DialectRegistry([
            AlibabaRPCDialect(rpc: rpc),
            // Before S3: its requests are SigV4-signed too, for service sagemaker under /human-loops.
            HumanLoopRuntimeDialect(reviews: components.reviews, access: components.access, objects: components.objects,
                                    outputBucket: components.configuration.reviewOutputBucket),
            S3Dialect(router: S3Router(operations: S3Operations(oss: objectOperations), access: components.access,
                                       baseDomain: components.configuration.s3BaseDomain)),
            oss,
            ServerPages(),
            GreenDialect(operations: green, access: components.access, maxBodyBytes: components.configuration.maxRequestBodyBytes,
                         rate: CallRateLimit(perSecond: components.configuration.moderationCallsPerSecond),
                         region: components.configuration.region),
            RekognitionDialect(moderation: DetectModerationLabels(moderator: components.moderator, readObject: { bucket, key, call, limit in
                try await objectOperations.readAll(bucket: bucket, key: key, caller: call.caller, request: call.request,
                                                   sourceIP: call.sourceIP, requestID: call.requestID, limit: limit)
            }, humanLoops: HumanLoopActivation(reviews: components.reviews)),
                               access: components.access, maxBodyBytes: components.configuration.maxRequestBodyBytes),
            FaceDialect(sessions: components.liveness, keys: components.apiKeys, access: components.access,
                        maxBodyBytes: components.configuration.maxRequestBodyBytes, region: components.configuration.region),
        ] + extra, fallback: ServerPages())
    }

    public static func makeApplication(
        _ components: ServerComponents, logger: Logger, services: [any Service] = [], dialects extra: [any Dialect] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = components.configuration
        let idle = configuration.idleTimeout.components
        return Application(
            router: makeRouter(components, extra: extra),
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()],
                                                idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Visage",
                                 availableConnectionsDelegate: ConnectionCap(limit: configuration.effectiveMaxConnections, logger: logger)),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Opens the data directory and stores, bootstraps the root account, and serves until
    /// SIGTERM or SIGINT; then in-flight requests finish and queued work is handed back.
    public static func run(_ configuration: ServerConfiguration, logger: Logger,
                           announce: @escaping @Sendable (String) -> Void) async throws {
        // Object reads and writes go in blocks of 256 KiB to 1 MiB. By default malloc maps such
        // blocks afresh and unmaps them when freed, so every block costs page faults and zeroed
        // pages (a third of a 64 MB GET's CPU time); kept in its heaps, freed blocks are reused.
        // Up to 32 MiB freed at the top of a heap stays with the process.
        _ = visage_keep_freed_memory(4 << 20, 32 << 20)
        try await OpenedDataDirectory.with(configuration, logger: logger) { opened in
            let credentials = opened.root.credentials
            if opened.root.created && configuration.rootAccessKeyID == nil {
                announce("""
                    Root account \(credentials.AccountId)
                      AccessKeyId:     \(credentials.AccessKeyId)
                      AccessKeySecret: \(credentials.AccessKeySecret)
                    Saved to \(configuration.layout.rootCredentialsFile.path) (mode 0600). This is the only time it is printed.
                    """)
            } else if opened.root.created {
                announce("Root account \(credentials.AccountId) uses the access key \(credentials.AccessKeyId) from VISAGE_ROOT_ACCESS_KEY_ID.")
            }
            if let key = configuration.faceAPIKey {
                // Bound to the root account, as the root access key variables are.
                try await APIKeyDirectory(store: opened.store, box: opened.box,
                                          identities: IdentityDirectory(store: opened.store,
                                                                        keys: AccessKeyDirectory(store: opened.store, box: opened.box)))
                    .put(key, account: credentials.AccountId, principal: "root", service: FaceDialect.service)
            }
            let threads = configuration.inferenceThreads
            let components = ServerComponents(
                configuration: configuration, store: opened.store, objects: opened.objects, box: opened.box,
                assets: try WebAssets(), faces: SharedFaceEngine(load: { try FaceEngine.load(threads: threads) }),
                moderator: SharedContentModerator(load: { try ContentModerator.load(threads: threads) }))
            let delivery = NotificationDelivery(outbox: components.outbox, key: components.notificationKey)
            let workers: [any Service] = !configuration.role.doesWork ? [] : [
                components.indexing.workers(concurrency: configuration.indexWorkers, logger: logger),
                components.clustering.workers(logger: logger),
                components.comparisons.workers(logger: logger),
                delivery.workers(logger: logger),
                BindingFollower(bindings: components.bindings, logger: logger),
                Periodic(name: "comparison sweep", every: .seconds(3600), logger: logger) {
                    try await components.comparisons.sweep()
                },
            ]
            let app = makeApplication(components, logger: logger, services: workers) { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
                announce("Visage (\(configuration.role.rawValue)) is listening on http://\(address ?? "\(configuration.host):\(configuration.port)")/")
            }
            try await app.runService()
        }
    }
}
