import Foundation
import SQLKit
import VisageCore
import VisageStore
import VisageVision

/// A face that belongs to no person, with the people it looks most like.
public struct UnsortedFace: Sendable, Equatable {
    /// A person the face may be, and how far it sits from them.
    public struct Suggestion: Sendable, Equatable {
        public let person: String
        /// The mean distance to the person's nearest faces (at most three).
        public let distance: Float
    }

    public let figureID: String
    public let fileID: String
    public let uri: String
    /// Whether the face passed the quality gate clustering applies.
    public let qualityOK: Bool
    /// Never placed by a run yet (rather than left out of every person).
    public let neverPlaced: Bool
    /// The people a user said it is not.
    public let notPeople: [String]
    /// Nearest first; never a person it was said not to be.
    public let suggestions: [Suggestion]
}

extension FigureClusterStore {
    /// The dataset's faces that belong to no person (best quality first, at most `limit`), each
    /// with up to `count` people it is nearest to, and how many such faces there are in all.
    /// A person's distance is the mean over its few nearest faces, so one stray face in a person
    /// does not draw suggestions to it.
    public func unsortedFaces(dataset: DatasetKey, limit: Int = 200, count: Int = 3) async throws
        -> (faces: [UnsortedFace], total: Int)
    {
        let key = dataset.description
        let (waiting, placed, refused, total) = try await store.withConnection { db in
            let waiting = try await db.raw("""
                SELECT c.figure_id, c.file_id, c.embedding, c.quality_ok, c.cluster_id, f.uri
                FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.dataset_key = \(bind: key) AND (c.cluster_id IS NULL OR c.cluster_id = \(bind: ReservedCluster.independent))
                ORDER BY c.quality_ok DESC, c.quality DESC, c.figure_id LIMIT \(bind: limit)
                """).all()
            let placed = try await db.raw("""
                SELECT cluster_id, embedding FROM media_faces
                WHERE dataset_key = \(bind: key) AND cluster_id IS NOT NULL AND cluster_id <> \(bind: ReservedCluster.independent)
                """).all()
            let refused = try await db.raw("""
                SELECT subject, other FROM media_cluster_constraints
                WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.notPerson)
                """).all()
            let total = try await db.raw("""
                SELECT COUNT(*) AS n FROM media_faces
                WHERE dataset_key = \(bind: key) AND (cluster_id IS NULL OR cluster_id = \(bind: ReservedCluster.independent))
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            return (waiting, placed, refused, total)
        }
        var notPerson: [String: [String]] = [:]
        for row in refused {
            notPerson[try row.decode(column: "subject", as: String.self), default: []].append(try row.decode(column: "other", as: String.self))
        }
        var members: [String: [[Float]]] = [:]
        for row in placed {
            members[try row.decode(column: "cluster_id", as: String.self), default: []].append(try Self.vector(row))
        }
        let faces = try waiting.map { row -> UnsortedFace in
            let figureID = try row.decode(column: "figure_id", as: String.self)
            let vector = try Self.vector(row)
            let refusedPeople = Set(notPerson[figureID] ?? [])
            let suggestions = members.compactMap { person, vectors -> UnsortedFace.Suggestion? in
                guard !refusedPeople.contains(person) else { return nil }
                // Vectors of another model (a re-index in progress) are not compared.
                let nearest = vectors.filter { $0.count == vector.count }.map { Float(FaceComparison.distance(vector, $0)) }
                    .sorted().prefix(3)
                guard !nearest.isEmpty else { return nil }
                return UnsortedFace.Suggestion(person: person, distance: nearest.reduce(0, +) / Float(nearest.count))
            }.sorted { ($0.distance, $0.person) < ($1.distance, $1.person) }
            return UnsortedFace(figureID: figureID, fileID: try row.decode(column: "file_id", as: String.self),
                                uri: try row.decode(column: "uri", as: String.self),
                                qualityOK: try row.decode(column: "quality_ok", as: Int.self) != 0,
                                neverPlaced: try row.decode(column: "cluster_id", as: String?.self) == nil,
                                notPeople: (notPerson[figureID] ?? []).sorted(), suggestions: Array(suggestions.prefix(count)))
        }
        return (faces, total)
    }

    /// A face row's embedding, decoded from its stored bytes.
    static func vector(_ row: any SQLRow) throws -> [Float] {
        try row.decode(column: "embedding", as: Data.self).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
