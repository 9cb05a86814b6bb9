import Foundation
import VisageJobs
import VisageMedia
import VisageStore

/// Everything `visage serve` needs to know; each field has a flag and an environment variable.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: URL
    /// Nil means the embedded SQLite file in the data directory.
    public var databaseURL: String?
    public var rootAccessKeyID: String?
    public var rootAccessKeySecret: String?
    /// The largest request body accepted by endpoints that read the body into memory.
    public var maxRequestBodyBytes: Int
    /// The largest object a single PutObject stores (streamed to disk, never held in memory).
    public var maxObjectBytes: Int64 = 5 * 1024 * 1024 * 1024
    /// What the web UI's upload page and its token endpoint use.
    public var upload = UploadSettings()
    /// The region this server stands for in resource names (`acs:imm:REGION:…`).
    public var region = "cn-hangzhou"
    /// The base domain of virtual-host-style S3 requests (`bucket.BASE/key`); nil answers
    /// path-style requests only.
    public var s3BaseDomain: String?
    /// Where and how task notifications are delivered.
    public var notifications = NotificationSettings()
    /// Indexing tasks run at once (each analyses its files one after another).
    public var indexWorkers = 2
    /// How long a worker's claim on a task lasts without a heartbeat; after a crash the task is
    /// taken up again this long after the last heartbeat.
    public var taskLease: Duration = .seconds(60)
    /// How long a task whose attempt failed waits before the next one; doubles per attempt.
    public var taskRetryDelay: Duration = .seconds(2)
    /// Asynchronous face comparisons: result retention, workers, image fetch limits.
    public var comparisons = ComparisonSettings()
    /// Content Moderation calls a second per account.
    public var moderationCallsPerSecond = 50

    public init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: URL = URL(fileURLWithPath: "data"),
                databaseURL: String? = nil, rootAccessKeyID: String? = nil, rootAccessKeySecret: String? = nil,
                maxRequestBodyBytes: Int = 8 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.rootAccessKeyID = rootAccessKeyID
        self.rootAccessKeySecret = rootAccessKeySecret
        self.maxRequestBodyBytes = maxRequestBodyBytes
    }

    /// The data directory's layout.
    public var layout: DataLayout { DataLayout(root: dataDirectory) }

    public func databaseLocation() throws -> DatabaseLocation {
        if let databaseURL, !databaseURL.isEmpty { return try DatabaseLocation(url: databaseURL) }
        return .sqlite(path: layout.sqliteFile.path)
    }
}

/// The upload page's application-server settings: which RAM user asks for tokens, for which
/// role (optionally narrowed by a session policy), where uploads go, and how the token endpoint
/// is protected (a shared secret, or else callers on this machine only).
public struct UploadSettings: Sendable {
    public var userName: String?
    public var roleName: String?
    public var sessionPolicy: String?
    public var bucket = "web-direct-upload"
    public var project = "photos"
    public var sharedSecret: String?
    public var durationSeconds = 3600

    public init() {}

    public var isConfigured: Bool { userName != nil && roleName != nil }
}

/// Where things live inside the data directory.
public struct DataLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var sqliteFile: URL { root.appendingPathComponent("visage.sqlite") }
    public var objectsDirectory: URL { root.appendingPathComponent("objects", isDirectory: true) }
    public var secretKeyFile: URL { root.appendingPathComponent("secret.key") }
    public var rootCredentialsFile: URL { root.appendingPathComponent("root-credentials.json") }
    /// Nearest-neighbour indexes of face embeddings, one per dataset (rebuilt when missing).
    public var vectorsDirectory: URL { root.appendingPathComponent("vectors", isDirectory: true) }

    /// Creates the directory, private to its owner: it holds the database and sealed secrets.
    public func create() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
