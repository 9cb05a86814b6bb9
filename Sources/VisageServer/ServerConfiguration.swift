import Foundation
import VisageJobs
import VisageMedia
import VisageS3Blobs
import VisageStore

/// What a server process does: answer requests and queue work (`api`), do the queued work
/// (`worker`: indexing, clustering, comparisons, notifications, following bindings), or both.
public enum ServerRole: String, Sendable, CaseIterable {
    case all, api, worker

    var answersRequests: Bool { self != .worker }
    var doesWork: Bool { self != .api }
}

/// Everything `visage serve` needs to know; each field has a flag and an environment variable.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: URL
    /// Nil means the embedded SQLite file in the data directory.
    public var databaseURL: String?
    /// Where object bytes live: nil means files in the data directory, else an S3-compatible bucket.
    public var objectBackend: S3Settings?
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
    /// What this process does; processes of every role can share one PostgreSQL and object store.
    public var role = ServerRole.all
    /// OpenVINO inference threads (0: its own choice).
    public var inferenceThreads = 0
    /// Liveness sessions: challenges, attempts, decision thresholds.
    public var liveness = LivenessSettings()
    /// A Face API subscription key bound to the root account at start (`VISAGE_FACE_API_KEY`).
    public var faceAPIKey: String?
    /// Content Moderation calls a second per account.
    public var moderationCallsPerSecond = 50
    /// Human review of moderated images: the confidence band that starts one, open reviews per account.
    public var reviews = ReviewSettings()
    /// The bucket (of the reviewing account) where a completed review's output document is written.
    public var reviewOutputBucket = "human-review-output"
    /// Connections served at once; beyond it new ones wait in the listen queue. Nil: the open-file
    /// limit less a reserve for the database, object files and outgoing requests.
    public var maxConnections: Int?
    /// A connection that sends nothing for this long while a request is unfinished (half a
    /// header, a body that stalls) or between requests is closed.
    public var idleTimeout: Duration = .seconds(60)

    /// The connection cap in effect: the configured one, never more than the open files allow.
    public var effectiveMaxConnections: Int {
        var limit = rlimit()
        let files = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        let reserve = 256
        return max(16, min(maxConnections ?? Int.max, files - reserve))
    }

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

    /// What `visage upload-setup` saved in the data directory (no secret: the user's key stays sealed).
    public struct Saved: Codable, Sendable, Equatable {
        public var user: String
        public var role: String
        public var bucket: String
        public var project: String

        public init(user: String, role: String, bucket: String, project: String) {
            self.user = user
            self.role = role
            self.bucket = bucket
            self.project = project
        }

        /// The saved settings of a data directory, nil when there are none.
        public static func read(from layout: DataLayout) throws -> Saved? {
            guard let data = try? Data(contentsOf: layout.uploadSettingsFile) else { return nil }
            return try JSONDecoder().decode(Saved.self, from: data)
        }

        public func write(to layout: DataLayout) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(self).write(to: layout.uploadSettingsFile, options: .atomic)
        }
    }

    /// Takes the user, role, bucket and project from saved settings.
    public mutating func apply(_ saved: Saved) {
        userName = saved.user
        roleName = saved.role
        bucket = saved.bucket
        project = saved.project
    }
}

/// Where things live inside the data directory.
public struct DataLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var sqliteFile: URL { root.appendingPathComponent("visage.sqlite") }
    public var objectsDirectory: URL { root.appendingPathComponent("objects", isDirectory: true) }
    public var secretKeyFile: URL { root.appendingPathComponent("secret.key") }
    public var rootCredentialsFile: URL { root.appendingPathComponent("root-credentials.json") }
    /// The Upload page's settings written by `visage upload-setup`.
    public var uploadSettingsFile: URL { root.appendingPathComponent("upload-page.json") }
    /// Nearest-neighbour indexes of face embeddings, one per dataset (rebuilt when missing).
    public var vectorsDirectory: URL { root.appendingPathComponent("vectors", isDirectory: true) }

    /// Creates the directory, private to its owner: it holds the database and sealed secrets.
    public func create() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
