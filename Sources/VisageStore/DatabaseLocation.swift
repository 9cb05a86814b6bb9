import Foundation
import VisageCore

/// Where the metadata lives: an SQLite file (the embedded default) or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    /// Parses `postgres://user:pass@host:port/db` (also `postgresql://`) or `sqlite:///path/file.db`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw VisageError.invalidArgument(field: "VISAGE_DATABASE_URL", message: "not a URL: \(url)")
        }
        switch scheme {
        case "postgres", "postgresql":
            let database = String(components.path.drop(while: { $0 == "/" }))
            guard let host = components.host, !host.isEmpty, !database.isEmpty else {
                throw VisageError.invalidArgument(
                    field: "VISAGE_DATABASE_URL", message: "expected postgres://user[:password]@host[:port]/database")
            }
            self = .postgres(
                host: host, port: components.port ?? 5432, user: components.user ?? "postgres",
                password: components.password, database: database)
        case "sqlite":
            guard !components.path.isEmpty else {
                throw VisageError.invalidArgument(field: "VISAGE_DATABASE_URL", message: "expected sqlite:///path/to/file.db")
            }
            self = .sqlite(path: components.path)
        default:
            throw VisageError.invalidArgument(
                field: "VISAGE_DATABASE_URL", message: "unsupported scheme '\(scheme)' (use postgres:// or sqlite://)")
        }
    }

    /// A description without the password, safe for logs.
    public var redacted: String {
        switch self {
        case let .sqlite(path): return "sqlite://\(path)"
        case let .postgres(host, port, user, _, database): return "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }
}
