import SQLKit
import VisageCore

/// One recorded change of an object: its position in the feed, its key, put or delete.
public struct ObjectChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case put, delete }

    public let sequence: Int64
    public let key: String
    public let kind: Kind
}

/// The change feed every object store writes in the transaction of each put and delete
/// (`object_changes` in the metadata store), read by followers such as dataset bindings inside
/// their own transactions, so a follower's cursor and what it did with the changes commit together.
public enum ObjectChangeFeed {
    /// The newest position; a follower starting now begins after it.
    public static func latest(db: any SQLDatabase) async throws -> Int64 {
        try await db.raw("SELECT MAX(seq) AS s FROM object_changes").first()?.decode(column: "s", as: Int64?.self) ?? 0
    }

    /// Up to `limit` changes of `bucket` after `cursor`, oldest first, recorded at `settledBefore`
    /// (milliseconds) or earlier: a PostgreSQL sequence number is taken before its transaction
    /// commits, so the newest numbers may still have gaps that fill later.
    public static func changes(bucket: String, after cursor: Int64, settledBefore: Int64, limit: Int,
                               db: any SQLDatabase) async throws -> [ObjectChange] {
        try await db.raw("""
            SELECT seq, object_key, change FROM object_changes WHERE bucket = \(bind: bucket) AND seq > \(bind: cursor)
              AND changed_at <= \(bind: settledBefore)
            ORDER BY seq LIMIT \(bind: limit)
            """).all().map { row in
            ObjectChange(sequence: try row.decode(column: "seq", as: Int64.self), key: try row.decode(column: "object_key", as: String.self),
                         kind: ObjectChange.Kind(rawValue: try row.decode(column: "change", as: String.self)) ?? .put)
        }
    }

    /// Forgets the changes before `cursor` (inclusive); `cursor` nil forgets them all. One
    /// statement: `cursor` is a subquery the caller gives, evaluated in the same statement.
    public static func prune(upTo cursor: SQLQueryString?, db: any SQLDatabase) async throws {
        let bound: SQLQueryString = cursor.map { "COALESCE((\($0)), (SELECT MAX(seq) FROM object_changes))" }
            ?? "(SELECT MAX(seq) FROM object_changes)"
        try await db.raw("DELETE FROM object_changes WHERE seq <= \(bound)").run()
    }

    /// Records a change, in the transaction of the catalog change it describes.
    static func record(bucket: BucketName, key: ObjectKey, _ kind: ObjectChange.Kind, at millis: Int64, db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO object_changes (bucket, object_key, change, changed_at)
            VALUES (\(bind: bucket.value), \(bind: key.value), \(bind: kind.rawValue), \(bind: millis))
            """).run()
    }
}
