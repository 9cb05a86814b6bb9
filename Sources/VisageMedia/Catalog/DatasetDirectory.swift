import SQLKit
import VisageStore

extension DatasetCatalog {
    /// Every dataset of every account, ordered by account, project and name. For the operator's
    /// own views (the web UI on this machine); API callers list their own account's only.
    public func allDatasets() async throws -> [DatasetKey] {
        try await store.withConnection { db in
            try await db.raw("SELECT account_id, project, name FROM media_datasets ORDER BY account_id, project, name").all()
        }.map { row in
            DatasetKey(accountID: try row.decode(column: "account_id", as: String.self),
                       project: try row.decode(column: "project", as: String.self),
                       dataset: try row.decode(column: "name", as: String.self))
        }
    }
}

/// What a dataset holds, for the operator's overview.
public struct DatasetSummary: Sendable, Equatable {
    public let key: DatasetKey
    public let files: Int
    public let faces: Int
    public let people: Int
    /// Faces in no person: never placed by a run, or left out of every person.
    public let unsortedFaces: Int
}

extension DatasetCatalog {
    /// Every dataset with its counts, in `allDatasets()` order.
    public func summaries() async throws -> [DatasetSummary] {
        let keys = try await allDatasets()
        let counts = try await store.withConnection { db -> [String: [String: Int]] in
            var counts: [String: [String: Int]] = [:]
            let queries: [(String, SQLQueryString)] = [
                ("files", "SELECT dataset_key, COUNT(*) AS n FROM media_files GROUP BY dataset_key"),
                ("faces", "SELECT dataset_key, COUNT(*) AS n FROM media_faces GROUP BY dataset_key"),
                ("people", "SELECT dataset_key, COUNT(*) AS n FROM media_clusters GROUP BY dataset_key"),
                ("unsorted", """
                    SELECT dataset_key, COUNT(*) AS n FROM media_faces
                    WHERE cluster_id IS NULL OR cluster_id = \(bind: ReservedCluster.independent) GROUP BY dataset_key
                    """),
            ]
            for (name, query) in queries {
                for row in try await db.raw(query).all() {
                    counts[try row.decode(column: "dataset_key", as: String.self), default: [:]][name] =
                        try row.decode(column: "n", as: Int.self)
                }
            }
            return counts
        }
        return keys.map { key in
            let found = counts[key.description] ?? [:]
            return DatasetSummary(key: key, files: found["files"] ?? 0, faces: found["faces"] ?? 0, people: found["people"] ?? 0,
                                  unsortedFaces: found["unsorted"] ?? 0)
        }
    }
}
