import ArgumentParser
import CLinux
import Foundation
import Logging
import VisageS3Blobs
import VisageServer

/// The process entry. glibc gives each thread that allocates its own malloc arena; with the
/// inference, decoding and server threads that left about 150 MB of peak memory in fragments
/// (`visage bench faces`: 915 MB peak with the default, 765 MB with two arenas).
@main
enum Entry {
    static func main() async {
        _ = visage_limit_malloc_arenas(2)
        await Visage.main()
    }
}

/// The `visage` command: the server and the tools a person uses at a terminal.
struct Visage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visage",
        abstract: "Self-hosted face and media intelligence server.",
        subcommands: [Serve.self, Detect.self, Compare.self, Moderate.self, CompareAsync.self, Models.self, Bench.self, Buckets.self,
                      Objects.self, Users.self, FaceKeys.self, Roles.self, Policies.self, Events.self, Index.self, Cluster.self,
                      People.self, UploadSetup.self, Sweep.self, Migrate.self])
}

/// Options every command that opens the data directory shares.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Data directory (env VISAGE_DATA, default ./data).")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"),
            help: "postgres://user:pass@host:port/db to keep metadata in PostgreSQL (env VISAGE_DATABASE_URL; default: SQLite in the data directory).")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env VISAGE_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json (env VISAGE_LOG_FORMAT, default text).")
    var logFormat: String?

    var resolvedDataDirectory: URL {
        URL(fileURLWithPath: dataDirectory ?? Environment.value("VISAGE_DATA") ?? "data")
    }

    var resolvedDatabaseURL: String? { databaseURL ?? Environment.value("VISAGE_DATABASE_URL") }

    /// The data directory, database, object backend and root key settings from flags and the environment.
    var configuration: ServerConfiguration {
        get throws {
            var configuration = ServerConfiguration(
                dataDirectory: resolvedDataDirectory, databaseURL: resolvedDatabaseURL,
                rootAccessKeyID: Environment.value("VISAGE_ROOT_ACCESS_KEY_ID"),
                rootAccessKeySecret: Environment.value("VISAGE_ROOT_ACCESS_KEY_SECRET"))
            do {
                configuration.objectBackend = try S3Settings.fromEnvironment(ProcessInfo.processInfo.environment)
            } catch {
                throw ValidationError("\(error)")
            }
            return configuration
        }
    }

    /// Sets up logging once per process and returns the command's logger.
    func makeLogger(label: String) throws -> Logger {
        let levelName = logLevel ?? Environment.value("VISAGE_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ValidationError("unknown log level '\(levelName)'")
        }
        let format = (logFormat ?? Environment.value("VISAGE_LOG_FORMAT") ?? "text").lowercased()
        guard format == "text" || format == "json" else { throw ValidationError("unknown log format '\(format)'") }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json"
                ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

/// Reads configuration from the environment, treating empty values as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
