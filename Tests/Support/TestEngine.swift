import Foundation
import Logging
import PostgresNIO
import VisageStore

/// The engines every store test runs on. PostgreSQL comes from `VISAGE_TEST_POSTGRES_URL`, which
/// `make test` sets after starting a throw-away cluster; each test gets its own fresh database.
public enum TestEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    public static var available: [TestEngine] {
        ProcessInfo.processInfo.environment["VISAGE_TEST_POSTGRES_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    /// Opens a new, empty store on this engine for the length of `body`.
    public func withFreshStore<T: Sendable>(_ body: (MetadataStore, URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visage-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        switch self {
        case .sqlite:
            return try await MetadataStore.withStore(at: .sqlite(path: directory.appendingPathComponent("t.sqlite").path),
                                                     logger: logger) { try await body($0, directory) }
        case .postgres:
            let admin = try DatabaseLocation(url: ProcessInfo.processInfo.environment["VISAGE_TEST_POSTGRES_URL"]!)
            guard case let .postgres(host, port, user, password, _) = admin else { throw TestSetupError.notPostgres }
            let name = "visage_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try await Self.admin(admin, "CREATE DATABASE \(name)")
            do {
                let result = try await MetadataStore.withStore(
                    at: .postgres(host: host, port: port, user: user, password: password, database: name),
                    logger: logger) { try await body($0, directory) }
                try await Self.admin(admin, "DROP DATABASE \(name)")
                return result
            } catch {
                try? await Self.admin(admin, "DROP DATABASE \(name)")
                throw error
            }
        }
    }

    private static func admin(_ location: DatabaseLocation, _ statement: String) async throws {
        guard case let .postgres(host, port, user, password, database) = location else { return }
        let configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
        let logger = Logger(label: "test-admin")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

public enum TestSetupError: Error { case notPostgres }
