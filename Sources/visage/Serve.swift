import ArgumentParser
import Foundation
import VisageJobs
import VisageMedia
import VisageServer
import VisageVision

/// `visage serve`: runs the HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (stops cleanly on SIGTERM or SIGINT).")

    @OptionGroup var data: DataOptions

    @Option(help: "Address to listen on (env VISAGE_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (env VISAGE_PORT, default 8080).")
    var port: Int?

    @Option(name: .customLong("max-body-bytes"), help: "Largest in-memory request body (env VISAGE_MAX_BODY_BYTES, default 8 MiB).")
    var maxBodyBytes: Int?

    @Option(help: "Region named in resource ARNs such as acs:imm:REGION:ACCOUNT:project/NAME (env VISAGE_REGION, default cn-hangzhou).")
    var region: String?

    @Option(help: "OpenVINO inference threads, 0 for its own choice (env VISAGE_INFERENCE_THREADS).")
    var threads: Int?

    @Option(help: "all: answer requests and do the work; api: answer requests and queue work; worker: do queued work (env VISAGE_ROLE, default all).")
    var role: String?

    @Option(name: .customLong("s3-domain"),
            help: "Base domain of virtual-host-style S3 requests, bucket.DOMAIN/key (env VISAGE_S3_DOMAIN; default: path-style only).")
    var s3Domain: String?

    func run() async throws {
        let logger = try data.makeLogger(label: "visage")
        let envPort = try Environment.value("VISAGE_PORT").map { text -> Int in
            guard let value = Int(text), (0...65535).contains(value) else { throw ValidationError("VISAGE_PORT must be a port number") }
            return value
        }
        let envBody = try Environment.value("VISAGE_MAX_BODY_BYTES").map { text -> Int in
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_MAX_BODY_BYTES must be a positive number") }
            return value
        }
        var configuration = try data.configuration
        configuration.host = host ?? Environment.value("VISAGE_HOST") ?? configuration.host
        configuration.port = port ?? envPort ?? configuration.port
        configuration.maxRequestBodyBytes = maxBodyBytes ?? envBody ?? configuration.maxRequestBodyBytes
        configuration.region = region ?? Environment.value("VISAGE_REGION") ?? configuration.region
        configuration.s3BaseDomain = (s3Domain ?? Environment.value("VISAGE_S3_DOMAIN"))?.lowercased()
        // The upload page's application server: `visage upload-setup`'s saved settings, unless the
        // environment names a user and role of its own.
        var upload = configuration.upload
        if Environment.value("VISAGE_UPLOAD_USER") == nil, Environment.value("VISAGE_UPLOAD_ROLE") == nil,
           let saved = try UploadSettings.Saved.read(from: configuration.layout) {
            upload.apply(saved)
        }
        upload.userName = Environment.value("VISAGE_UPLOAD_USER") ?? upload.userName
        upload.roleName = Environment.value("VISAGE_UPLOAD_ROLE") ?? upload.roleName
        upload.sessionPolicy = Environment.value("VISAGE_UPLOAD_SESSION_POLICY")
        upload.bucket = Environment.value("VISAGE_UPLOAD_BUCKET") ?? upload.bucket
        upload.project = Environment.value("VISAGE_UPLOAD_PROJECT") ?? upload.project
        upload.sharedSecret = Environment.value("VISAGE_UPLOAD_SECRET")
        configuration.upload = upload
        do {
            configuration.notifications = try NotificationSettings.fromEnvironment()
        } catch {
            throw ValidationError("\(error)")
        }
        if let text = Environment.value("VISAGE_WORKERS") {
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_WORKERS must be a positive number") }
            configuration.indexWorkers = value
        }
        if let text = Environment.value("VISAGE_TASK_LEASE_SECONDS") {
            guard let value = Int(text), value >= 2 else { throw ValidationError("VISAGE_TASK_LEASE_SECONDS must be at least 2") }
            configuration.taskLease = .seconds(value)
        }
        if let text = Environment.value("VISAGE_TASK_RETRY_SECONDS") {
            guard let value = Double(text), value > 0, value <= 3600 else {
                throw ValidationError("VISAGE_TASK_RETRY_SECONDS must be a number of seconds above 0, at most 3600")
            }
            configuration.taskRetryDelay = .milliseconds(max(1, Int64(value * 1000)))
        }
        if let text = Environment.value("VISAGE_COMPARE_RESULT_HOURS") {
            guard let value = Double(text), value > 0 else {
                throw ValidationError("VISAGE_COMPARE_RESULT_HOURS must be a number of hours above 0")
            }
            configuration.comparisons.retention = .milliseconds(max(1, Int64(value * 3_600_000)))
        }
        if let text = Environment.value("VISAGE_COMPARE_WORKERS") {
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_COMPARE_WORKERS must be a positive number") }
            configuration.comparisons.workers = value
        }
        if let text = Environment.value("VISAGE_MAX_CONNECTIONS") {
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_MAX_CONNECTIONS must be a positive number") }
            configuration.maxConnections = value
        }
        if let text = Environment.value("VISAGE_IDLE_TIMEOUT_SECONDS") {
            guard let value = Double(text), value > 0 else { throw ValidationError("VISAGE_IDLE_TIMEOUT_SECONDS must be a number of seconds above 0") }
            configuration.idleTimeout = .milliseconds(Int64(value * 1000))
        }
        if let text = Environment.value("VISAGE_MODERATION_QPS") {
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_MODERATION_QPS must be a positive number") }
            configuration.moderationCallsPerSecond = value
        }
        if let text = Environment.value("VISAGE_REVIEW_BAND") {
            guard let band = ReviewSettings.band(text) else {
                throw ValidationError("VISAGE_REVIEW_BAND must be LOWER-UPPER confidences, 0 <= LOWER < UPPER <= 100 (e.g. 50-90)")
            }
            (configuration.reviews.lower, configuration.reviews.upper) = band
        }
        if let text = Environment.value("VISAGE_REVIEW_PENDING_LIMIT") {
            guard let value = Int(text), value > 0 else { throw ValidationError("VISAGE_REVIEW_PENDING_LIMIT must be a positive number") }
            configuration.reviews.pendingLimit = value
        }
        if let name = Environment.value("VISAGE_REVIEW_OUTPUT_BUCKET") { configuration.reviewOutputBucket = name }
        if let key = Environment.value("VISAGE_FACE_API_KEY") {
            guard (16...256).contains(key.count), key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
                throw ValidationError("VISAGE_FACE_API_KEY must be 16 to 256 printable ASCII characters")
            }
            configuration.faceAPIKey = key
        }
        if let text = Environment.value("VISAGE_LIVENESS_CHALLENGES") {
            let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let challenges = names.compactMap(LivenessChallenge.init(rawValue:))
            guard !challenges.isEmpty, challenges.count == names.count else {
                throw ValidationError("VISAGE_LIVENESS_CHALLENGES must list some of \(LivenessChallenge.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            configuration.liveness.challenges = challenges
        }
        configuration.inferenceThreads = threads ?? Environment.value("VISAGE_INFERENCE_THREADS").flatMap(Int.init) ?? 0
        if let name = role ?? Environment.value("VISAGE_ROLE") {
            guard let chosen = ServerRole(rawValue: name) else { throw ValidationError("the role must be all, api or worker") }
            configuration.role = chosen
        }
        // A busy port fails the command before the data directory is opened (or created).
        if configuration.port != 0, let problem = Self.portProblem(host: configuration.host, port: configuration.port) {
            throw CommandFailure("cannot listen on \(configuration.host):\(configuration.port): \(problem)")
        }
        try await VisageServer.run(configuration, logger: logger) { message in
            // Written unbuffered, so a supervisor reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data((message + "\n").utf8))
        }
    }

    /// Why the address cannot be listened on (in use, not an address of this machine), or nil.
    static func portProblem(host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return "unknown address" }
        defer { freeaddrinfo(first) }
        let socket = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socket >= 0 else { return nil }
        defer { close(socket) }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return String(cString: strerror(errno)).lowercased()
        }
        return nil
    }
}
