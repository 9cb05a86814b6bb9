import Foundation
import VisageCore

/// Where and how object bytes are kept in an S3-compatible bucket: the bucket and key prefix
/// (`s3://bucket/prefix`), the endpoint, the signing region, the addressing style and the key pair.
public struct S3Settings: Sendable, Equatable {
    public var bucket: String
    /// Prepended to every blob key; empty or ending in `/`.
    public var prefix: String
    /// Scheme, host and port of the service, without a path.
    public var endpoint: URL
    public var region: String
    /// `endpoint/bucket/key` rather than `bucket.endpoint/key`; what most self-hosted servers expect.
    public var pathStyle: Bool
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Bytes sent per request. Larger blobs go up as multipart uploads of parts this size, so a
    /// write holds at most one part in memory; services require at least 5 MiB per part.
    public var partSize = 8 * 1024 * 1024
    /// Attempts per request when the service answers 5xx, throttles, or cannot be reached.
    public var maxAttempts = 4
    /// The first retry waits this long; each further one twice as long (with jitter).
    public var firstBackoff: Duration = .milliseconds(200)
    /// The sweeper leaves blobs younger than this alone: a writer stores its blob before it
    /// commits the catalog row that refers to it.
    public var sweepGrace: Duration = .seconds(3600)
    /// Unfinished multipart uploads of the backend older than this are aborted by the sweeper.
    public var abandonedUploadAge: Duration = .seconds(24 * 3600)

    public init(bucket: String, prefix: String = "", endpoint: URL, region: String, pathStyle: Bool,
                accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The object-store location `s3://bucket[/prefix]`, or nil for any other text.
    public static func location(_ text: String) -> (bucket: String, prefix: String)? {
        guard text.hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { return nil }
        var prefix = String(rest.dropFirst(bucket.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !prefix.isEmpty { prefix += "/" }
        return (bucket, prefix)
    }

    /// Reads the settings from the environment: `VISAGE_OBJECT_STORE=s3://bucket/prefix` selects
    /// this backend (nil when it is unset or `local`); `VISAGE_S3_ENDPOINT`, `VISAGE_S3_REGION`,
    /// `VISAGE_S3_PATH_STYLE`, `VISAGE_S3_PART_MIB`, `VISAGE_S3_SWEEP_GRACE_SECONDS`; the key pair from
    /// `VISAGE_S3_ACCESS_KEY_ID`/`VISAGE_S3_SECRET_ACCESS_KEY` (or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
    /// with an optional session token), or else from the credentials file `VISAGE_S3_CREDENTIALS_FILE`
    /// (the INI form, profile `VISAGE_S3_PROFILE` or `default`).
    public static func fromEnvironment(_ environment: [String: String]) throws -> S3Settings? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let text = value("VISAGE_OBJECT_STORE"), text != "local" else { return nil }
        guard let place = location(text) else {
            throw VisageError.invalidArgument(field: "VISAGE_OBJECT_STORE", message: "must be local or s3://bucket/prefix")
        }
        let (bucket, prefix) = (place.bucket, place.prefix)
        let region = value("VISAGE_S3_REGION") ?? value("AWS_REGION") ?? "us-east-1"
        let endpointText = value("VISAGE_S3_ENDPOINT") ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme, scheme == "http" || scheme == "https",
              endpoint.host != nil, endpoint.path.isEmpty || endpoint.path == "/"
        else {
            throw VisageError.invalidArgument(field: "VISAGE_S3_ENDPOINT", message: "must be http(s)://host[:port] without a path")
        }
        // A named endpoint is usually a self-hosted server, which expects path-style requests.
        let pathStyle = try value("VISAGE_S3_PATH_STYLE").map { try flag($0, "VISAGE_S3_PATH_STYLE") }
            ?? (value("VISAGE_S3_ENDPOINT") != nil)
        var keys = (value("VISAGE_S3_ACCESS_KEY_ID") ?? value("AWS_ACCESS_KEY_ID"),
                    value("VISAGE_S3_SECRET_ACCESS_KEY") ?? value("AWS_SECRET_ACCESS_KEY"),
                    value("VISAGE_S3_SESSION_TOKEN") ?? value("AWS_SESSION_TOKEN"))
        if keys.0 == nil || keys.1 == nil, let file = value("VISAGE_S3_CREDENTIALS_FILE") {
            let profile = try credentialsFile(URL(fileURLWithPath: file), profile: value("VISAGE_S3_PROFILE") ?? "default")
            keys = (profile["aws_access_key_id"], profile["aws_secret_access_key"], profile["aws_session_token"])
        }
        guard let keyID = keys.0, let secret = keys.1 else {
            throw VisageError.invalidArgument(
                field: "VISAGE_S3_ACCESS_KEY_ID",
                message: "the S3 object store needs a key pair (VISAGE_S3_ACCESS_KEY_ID and VISAGE_S3_SECRET_ACCESS_KEY, or VISAGE_S3_CREDENTIALS_FILE)")
        }
        var settings = S3Settings(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, pathStyle: pathStyle,
                                  accessKeyID: keyID, secretAccessKey: secret, sessionToken: keys.2)
        if let text = value("VISAGE_S3_PART_MIB") {
            guard let mebibytes = Int(text), (5...5120).contains(mebibytes) else {
                throw VisageError.invalidArgument(field: "VISAGE_S3_PART_MIB", message: "must be a number of MiB from 5 to 5120")
            }
            settings.partSize = mebibytes * 1024 * 1024
        }
        if let text = value("VISAGE_S3_SWEEP_GRACE_SECONDS") {
            guard let seconds = Int(text), seconds >= 0 else {
                throw VisageError.invalidArgument(field: "VISAGE_S3_SWEEP_GRACE_SECONDS", message: "must be a number of seconds")
            }
            settings.sweepGrace = .seconds(seconds)
        }
        return settings
    }

    static func flag(_ text: String, _ name: String) throws -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw VisageError.invalidArgument(field: name, message: "must be true or false")
        }
    }

    /// One profile of a credentials file in the INI form (`[name]`, then `key = value` lines).
    static func credentialsFile(_ url: URL, profile: String) throws -> [String: String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw VisageError.invalidArgument(field: "VISAGE_S3_CREDENTIALS_FILE", message: "cannot read \(url.path)")
        }
        var current: String?
        var found: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard current == profile, let equals = line.firstIndex(of: "=") else { continue }
            found[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] =
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard !found.isEmpty else {
            throw VisageError.invalidArgument(field: "VISAGE_S3_CREDENTIALS_FILE", message: "no profile [\(profile)] in \(url.path)")
        }
        return found
    }

    /// The object store's location as configured, without secrets.
    public var description: String { "s3://\(bucket)/\(prefix) at \(endpoint.absoluteString)" }
}
