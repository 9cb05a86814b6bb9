import Foundation
import Logging
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLKit
import SQLiteKit
import VisageCore

/// The SQL engine behind a `MetadataStore`.
public enum SQLEngineKind: String, Sendable {
    case sqlite
    case postgres
}

/// The relational store of everything but object bytes. One SQL code path runs on the embedded
/// SQLite file and on PostgreSQL; `kind` lets the few engine-specific statements (DDL, locks) differ.
public final class MetadataStore: Sendable {
    public let kind: SQLEngineKind
    public let location: DatabaseLocation
    private let access: Access
    let logger: Logger

    private enum Access: Sendable {
        case sqlite(SQLiteConnection, SerialGate)
        case postgres(PostgresClient)
    }

    private init(kind: SQLEngineKind, location: DatabaseLocation, access: Access, logger: Logger) {
        self.kind = kind
        self.location = location
        self.access = access
        self.logger = logger
    }

    /// Opens the store, brings its schema up to date, runs `body`, and closes it again.
    /// PostgreSQL's connection pool runs as a child task for exactly the lifetime of `body`.
    public static func withStore<T: Sendable>(
        at location: DatabaseLocation,
        logger: Logger = Logger(label: "visage.store"),
        _ body: (MetadataStore) async throws -> T
    ) async throws -> T {
        switch location {
        case let .sqlite(path):
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            let store = MetadataStore(kind: .sqlite, location: location, access: .sqlite(connection, SerialGate()), logger: logger)
            do {
                // WAL lets readers in other processes (the CLI beside a running server) proceed;
                // the busy timeout makes a second writer wait instead of failing at once.
                try await store.withConnection { db in
                    try await db.raw("PRAGMA journal_mode=WAL").run()
                    try await db.raw("PRAGMA busy_timeout=10000").run()
                    try await db.raw("PRAGMA foreign_keys=ON").run()
                    try await db.raw("PRAGMA synchronous=NORMAL").run()
                }
                try await Migrator(store: store).migrate()
                let result = try await body(store)
                try await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        case let .postgres(host, port, user, password, database):
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: .disable)
            configuration.options.minimumConnections = 0
            configuration.options.maximumConnections = 16
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let store = MetadataStore(kind: .postgres, location: location, access: .postgres(client), logger: logger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    await client.run()
                    return nil
                }
                defer { group.cancelAll() }
                try await Migrator(store: store).migrate()
                return try await body(store)
            }
        }
    }

    /// Runs `body` with exclusive use of one connection. Do not nest calls: on SQLite the second
    /// call would wait for the first forever.
    public func withConnection<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch access {
        case let .sqlite(connection, gate):
            return try await gate.run { try await body(connection.sql(queryLogLevel: .trace)) }
        case let .postgres(client):
            return try await client.withConnection { connection in
                try await body(connection.sql(queryLogLevel: .trace))
            }
        }
    }

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it throws.
    public func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let begin = kind == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        return try await withConnection { db in
            try await db.raw(SQLQueryString(begin)).run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                // Run even when this task is cancelled: a driver that refuses queries from a
                // cancelled task would otherwise leave the connection inside the transaction.
                _ = await Task.detached { try? await db.raw("ROLLBACK").run() }.value
                throw error
            }
        }
    }
}
