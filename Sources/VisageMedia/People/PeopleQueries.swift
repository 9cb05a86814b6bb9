import Foundation
import SQLKit
import VisageCore
import VisageStore

/// How QueryFigureClusters narrows and orders people.
public struct ClusterListing: Sendable {
    public enum Sort: String, Sendable, CaseIterable {
        case createTime = "CreateTime", updateTime = "UpdateTime", imageCount = "ImageCount", faceCount = "FaceCount", name = "Name"
    }

    public var sort: Sort = .createTime
    public var descending = false
    public var createdRange: ClosedRange<Int64>?
    public var updatedRange: ClosedRange<Int64>?
    /// CustomLabels that must all match exactly.
    public var labels: [String: String] = [:]
    public var limit = 100
    public var offset = 0

    public init() {}
}

extension FigureClusterStore {
    // MARK: Reading

    /// A page of the dataset's people, as `listing` narrows and orders them, with how many match.
    public func clusters(dataset: DatasetKey, _ listing: ClusterListing) async throws -> (clusters: [FigureCluster], total: Int) {
        var filter: SQLQueryString = "dataset_key = \(bind: dataset.description)"
        if let range = listing.createdRange {
            filter = filter + " AND created_at BETWEEN \(bind: range.lowerBound) AND \(bind: range.upperBound)"
        }
        if let range = listing.updatedRange {
            filter = filter + " AND updated_at BETWEEN \(bind: range.lowerBound) AND \(bind: range.upperBound)"
        }
        let column: String
        switch listing.sort {
        case .createTime: column = "created_at"
        case .updateTime: column = "updated_at"
        case .imageCount: column = "image_count"
        case .faceCount: column = "face_count"
        case .name: column = "name"
        }
        let direction = listing.descending ? "DESC" : "ASC"
        let where_ = filter
        // Label filters are applied after reading (labels are a small JSON object per person).
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT * FROM media_clusters WHERE " + where_
                             + SQLQueryString(" ORDER BY \(column) \(direction), number \(direction)")).all()
        }
        let all = try rows.map(Self.cluster).filter { cluster in
            listing.labels.allSatisfy { cluster.customLabels[$0.key] == $0.value }
        }
        let page = Array(all.dropFirst(listing.offset).prefix(listing.limit))
        return (page, all.count)
    }

    /// The person `id`; not-found when there is none.
    public func cluster(dataset: DatasetKey, id: String) async throws -> FigureCluster {
        guard let cluster = try await clusters(dataset: dataset, ids: [id]).first else {
            throw VisageError.notFound(kind: .figureCluster, name: id)
        }
        return cluster
    }

    /// The people with these ids that exist, in the order asked.
    public func clusters(dataset: DatasetKey, ids: [String]) async throws -> [FigureCluster] {
        guard !ids.isEmpty else { return [] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: ids))
                """).all()
        }
        let byID = Dictionary(try rows.map(Self.cluster).map { ($0.id, $0) }) { first, _ in first }
        return ids.compactMap { byID[$0] }
    }

    /// The cover of each person: the file document holding its cover face, and that face.
    public func covers(dataset: DatasetKey, of clusters: [FigureCluster]) async throws -> [String: ClusterCover] {
        let figureIDs = clusters.compactMap(\.coverFigureID)
        guard !figureIDs.isEmpty else { return [:] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT c.figure_id, f.document FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.figure_id IN (\(binds: figureIDs))
                """).all()
        }
        var byFigure: [String: ClusterCover] = [:]
        for row in rows {
            let figureID = try row.decode(column: "figure_id", as: String.self)
            guard let document = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue,
                  let figure = document["Figures"]?.arrayValue?.first(where: { $0.objectValue?["FigureId"]?.stringValue == figureID })
            else { continue }
            byFigure[figureID] = ClusterCover(document: document, figure: figure)
        }
        var covers: [String: ClusterCover] = [:]
        for cluster in clusters {
            if let figure = cluster.coverFigureID, let cover = byFigure[figure] { covers[cluster.id] = cover }
        }
        return covers
    }

    /// The faces of a person with the files they are in, best face first.
    public func faces(dataset: DatasetKey, cluster: String, limit: Int = 1000) async throws -> [ClusterFaceRecord] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT c.figure_id, c.file_id, c.pinned, f.uri FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.dataset_key = \(bind: dataset.description) AND c.cluster_id = \(bind: cluster)
                ORDER BY c.quality DESC, c.figure_id LIMIT \(bind: limit)
                """).all()
        }.map { row in
            ClusterFaceRecord(figureID: try row.decode(column: "figure_id", as: String.self),
                              fileID: try row.decode(column: "file_id", as: String.self),
                              uri: try row.decode(column: "uri", as: String.self),
                              pinned: try row.decode(column: "pinned", as: Int.self) != 0)
        }
    }

    /// The faces Visage would split off a person (see `PersonSplit`), best first; empty when
    /// the person's faces show no second person.
    public func proposeSplit(dataset: DatasetKey, cluster: String) async throws -> [String] {
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT figure_id, embedding FROM media_faces
                WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster)
                ORDER BY quality DESC, figure_id
                """).all()
        }
        guard !rows.isEmpty else { throw VisageError.notFound(kind: .figureCluster, name: cluster) }
        var ids: [String] = [], embeddings: [Float] = [], dimension = 0
        for row in rows {
            let vector = try Self.vector(row)
            if dimension == 0 { dimension = vector.count }
            guard vector.count == dimension else { continue }
            ids.append(try row.decode(column: "figure_id", as: String.self))
            embeddings += vector
        }
        return PersonSplit.propose(embeddings: embeddings, dimension: dimension)?.faces.map { ids[$0] } ?? []
    }

    /// The URI of the file holding each of `figureIDs` that still exists.
    public func files(dataset: DatasetKey, figureIDs: [String]) async throws -> [String: String] {
        guard !figureIDs.isEmpty else { return [:] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT c.figure_id, f.uri FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.dataset_key = \(bind: dataset.description) AND c.figure_id IN (\(binds: figureIDs))
                """).all()
        }
        let pairs = try rows.map { (try $0.decode(column: "figure_id", as: String.self), try $0.decode(column: "uri", as: String.self)) }
        return Dictionary(pairs) { first, _ in first }
    }
}
