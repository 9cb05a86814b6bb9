import Foundation
import SQLKit
import VisageCore

/// Copies every table of one metadata store into another at the same schema version (the
/// embedded SQLite file into PostgreSQL). Each table is copied in one transaction on the target;
/// a table whose target rows already number as many as the source's was copied by an earlier run
/// and is skipped, so an interrupted copy resumes where it stopped. A table that holds some other
/// number of rows on the target is refused: something else wrote to it.
public struct MetadataCopy: Sendable {
    public let source: MetadataStore
    public let target: MetadataStore
    /// Rows read and written per statement.
    public var batch = 500

    public init(source: MetadataStore, target: MetadataStore) {
        self.source = source
        self.target = target
    }

    /// One table's rows on each side after the copy, and whether this run copied it.
    public struct TableCount: Sendable, Equatable {
        public let table: String
        public let source: Int
        public let target: Int
        public let copiedNow: Bool
    }

    /// Copies the tables in the order they were created (so rows a table refers to are there
    /// first) and returns the counts of each.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> [TableCount] {
        guard source.kind == .sqlite, target.kind == .postgres else {
            throw VisageError.invalidArgument(field: "database", message: "copies an SQLite metadata store into PostgreSQL")
        }
        let (from, to) = (try await source.schemaVersion(), try await target.schemaVersion())
        guard from == to else {
            throw VisageError.invalidArgument(field: "database", message: "the schema versions differ (\(from) and \(to))")
        }
        let tables = try await source.withConnection { db in
            try await db.raw("""
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                  AND name <> 'schema_migrations' ORDER BY rowid
                """).all().map { try $0.decode(column: "name", as: String.self) }
        }
        var counts: [TableCount] = []
        for table in tables {
            let have = try await Self.count(table, in: source)
            let already = try await Self.count(table, in: target)
            if already == have {
                counts.append(TableCount(table: table, source: have, target: already, copiedNow: false))
                continue
            }
            guard already == 0 else {
                throw VisageError.invalidArgument(
                    field: "target database", message: "table \(table) holds \(already) rows there and \(have) in the source")
            }
            progress("copying \(table) (\(have) rows)")
            try await copy(table)
            counts.append(TableCount(table: table, source: have, target: try await Self.count(table, in: target), copiedNow: true))
        }
        try await advanceSequences()
        return counts
    }

    static func count(_ table: String, in store: MetadataStore) async throws -> Int {
        try await store.withConnection { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// A column and how its values are read and bound, from the target's declared type.
    private enum ColumnType { case integer, real, text, bytes }

    private func columns(of table: String) async throws -> [(name: String, type: ColumnType)] {
        try await target.withConnection { db in
            try await db.raw("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(bind: table) ORDER BY ordinal_position
                """).all().map { row in
                let type: ColumnType = switch try row.decode(column: "data_type", as: String.self) {
                case "bigint", "integer", "smallint": .integer
                case "double precision", "real", "numeric": .real
                case "bytea": .bytes
                default: .text
                }
                return (try row.decode(column: "column_name", as: String.self), type)
            }
        }
    }

    private func copy(_ table: String) async throws {
        let columns = try await columns(of: table)
        let names = columns.map(\.name)
        let batch = self.batch
        try await target.withTransaction { db in
            var after: Int64 = Int64.min
            while true {
                let cursor = after
                let rows = try await source.withConnection { source in
                    try await source.raw("""
                        SELECT rowid AS copy_rowid, * FROM \(ident: table) WHERE rowid > \(bind: cursor) ORDER BY rowid LIMIT \(bind: batch)
                        """).all()
                }
                guard let last = rows.last else { break }
                after = try last.decode(column: "copy_rowid", as: Int64.self)
                let insert = db.insert(into: SQLIdentifier(table)).columns(names)
                for row in rows {
                    insert.values(try columns.map { column -> any SQLExpression in
                        switch column.type {
                        case .integer: SQLBind(try row.decode(column: column.name, as: Int64?.self))
                        case .real: SQLBind(try row.decode(column: column.name, as: Double?.self))
                        case .text: SQLBind(try row.decode(column: column.name, as: String?.self))
                        case .bytes: SQLBind(try row.decode(column: column.name, as: Data?.self))
                        }
                    })
                }
                try await insert.run()
            }
        }
    }

    /// Rows copied with their serial numbers leave the target's sequences behind; moves each on
    /// to the highest number in its column, so new rows get fresh numbers.
    private func advanceSequences() async throws {
        try await target.withConnection { db in
            let serials = try await db.raw("""
                SELECT table_name, column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'
                """).all()
            for row in serials {
                let table = try row.decode(column: "table_name", as: String.self)
                let column = try row.decode(column: "column_name", as: String.self)
                try await db.raw("""
                    SELECT setval(pg_get_serial_sequence(\(bind: table), \(bind: column)),
                                  GREATEST((SELECT MAX(\(ident: column)) FROM \(ident: table)), 1))
                    """).run()
            }
        }
    }
}
