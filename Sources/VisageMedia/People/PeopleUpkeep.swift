import Foundation
import SQLKit
import VisageCore
import VisageStore

/// What follows every change of which person holds a face, for runs and edits alike: the
/// people's counts and covers, and the `Figures[].FigureClusterId` of the file documents (what
/// SimpleQuery reads).
extension FigureClusterStore {
    /// Recomputes the counts and cover of these people from their faces; a person left with no
    /// face is removed.
    func recount(dataset: DatasetKey, clusters ids: [String], db: any SQLDatabase, now: Int64 = WallClock.nowMillis()) async throws {
        let key = dataset.description
        for id in Set(ids) where !id.hasPrefix("figure-cluster-id-") {
            guard let row = try await db.raw("""
                SELECT * FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                """).first()
            else { continue }
            var cluster = try Self.cluster(row)
            let counts = try await db.raw("""
                SELECT COUNT(*) AS faces, COUNT(DISTINCT file_id) AS images FROM media_faces
                WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                """).first()
            let faces = try counts?.decode(column: "faces", as: Int.self) ?? 0
            guard faces > 0 else {
                try await db.raw("DELETE FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)").run()
                continue
            }
            let images = try counts?.decode(column: "images", as: Int.self) ?? 0
            let coverStillHere = try await cluster.coverFigureID.asyncMap { cover in
                try await db.raw("SELECT 1 FROM media_faces WHERE figure_id = \(bind: cover) AND cluster_id = \(bind: id)").first() != nil
            } ?? false
            if !(cluster.coverPinned && coverStillHere) {
                cluster.coverPinned = false
                cluster.coverFigureID = try await db.raw("""
                    SELECT figure_id FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                    ORDER BY quality_ok DESC, quality DESC, figure_id LIMIT 1
                    """).first()?.decode(column: "figure_id", as: String.self)
            }
            cluster.imageCount = images
            cluster.faceCount = faces
            try await save(cluster, dataset: dataset, db: db, now: now)
        }
    }

    /// Rewrites `Figures[].FigureClusterId` of these files' documents (and their query fields)
    /// from the face rows.
    func writeBack(fileIDs: [String], db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: fileIDs.count, by: 200).map({ Array(fileIDs[$0..<min(fileIDs.count, $0 + 200)]) }) {
            let faces = try await db.raw("SELECT figure_id, cluster_id FROM media_faces WHERE file_id IN (\(binds: chunk))").all()
            var clusterOf: [String: String] = [:]
            for row in faces {
                if let cluster = try row.decode(column: "cluster_id", as: String?.self) {
                    clusterOf[try row.decode(column: "figure_id", as: String.self)] = cluster
                }
            }
            let files = try await db.raw("SELECT id, dataset_key, document FROM media_files WHERE id IN (\(binds: chunk))").all()
            for row in files {
                let id = try row.decode(column: "id", as: String.self)
                guard var document = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue,
                      let figures = document["Figures"]?.arrayValue
                else { continue }
                document["Figures"] = .array(figures.map { figure in
                    guard var fields = figure.objectValue, let figureID = fields["FigureId"]?.stringValue else { return figure }
                    fields["FigureClusterId"] = clusterOf[figureID].map(JSONValue.string)
                    return .object(fields)
                })
                try await FileIndex.replaceDocument(id: id, key: try row.decode(column: "dataset_key", as: String.self),
                                                    document: document, db: db)
            }
        }
    }
}
