import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A dataset's faces as one clustering run reads them, with what users said about them.
struct FaceSnapshot: Sendable {
    let dataset: DatasetKey
    var figureIDs: [String] = []
    var fileIDs: [String] = []
    /// The person each face is in; nil while it waits for one.
    var clusters: [String?] = []
    /// Faces no run has looked at yet (an earlier run leaves the faces it could not place marked as waiting).
    var neverPlaced: [Bool] = []
    var pinned: [Bool] = []
    var highQuality: [Bool] = []
    /// The image of each face, numbered.
    var photos: [Int] = []
    /// Row-major embeddings.
    var embeddings: [Float] = []
    var dimension = 0
    /// People each face must stay out of ("not this person"), by position.
    var excluded: [Int: Set<String>] = [:]
    /// Pairs of faces a user said are two people, by position.
    var apart: [(Int, Int)] = []
    /// Pairs of people a user said are two people.
    var differentPeople: [(String, String)] = []
    /// The rows as read, to notice a change before the result is written.
    var fingerprint: [String] = []

    /// Faces in the order of their photos' names, then of their embeddings (ids are random), so
    /// the same photos cluster the same way, and number their people alike, whatever order
    /// they were indexed in.
    static let order = "m.uri, f.embedding, f.figure_id"

    /// Reads the faces of a dataset. A face a user put out of every person is left out.
    static func read(dataset: DatasetKey, store: MetadataStore) async throws -> FaceSnapshot {
        let key = dataset.description
        let (rows, constraints) = try await store.withConnection { db in
            (try await db.raw("""
                SELECT f.figure_id, f.file_id, f.embedding, f.quality_ok, f.cluster_id, f.pinned
                FROM media_faces f LEFT JOIN media_files m ON m.id = f.file_id
                WHERE f.dataset_key = \(bind: key) ORDER BY \(unsafeRaw: Self.order)
                """).all(),
             try await db.raw("""
                SELECT kind, subject, other FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
                ORDER BY kind, subject, other
                """).all())
        }
        var snapshot = FaceSnapshot(dataset: dataset)
        var photoNumbers: [String: Int] = [:]
        var position: [String: Int] = [:]
        for row in rows {
            let figureID = try row.decode(column: "figure_id", as: String.self)
            let cluster = try row.decode(column: "cluster_id", as: String?.self)
            let pinned = try row.decode(column: "pinned", as: Int.self) != 0
            snapshot.fingerprint.append("\(figureID) \(cluster ?? "-") \(pinned)")
            let vector = try FigureClusterStore.vector(row)
            if snapshot.dimension == 0 { snapshot.dimension = vector.count }
            guard vector.count == snapshot.dimension else { continue }
            let fileID = try row.decode(column: "file_id", as: String.self)
            let waiting = cluster == nil || cluster == ReservedCluster.independent
            if pinned && waiting { continue }
            position[figureID] = snapshot.figureIDs.count
            snapshot.figureIDs.append(figureID)
            snapshot.fileIDs.append(fileID)
            snapshot.clusters.append(waiting ? nil : cluster)
            snapshot.neverPlaced.append(cluster == nil)
            snapshot.pinned.append(pinned)
            snapshot.highQuality.append(try row.decode(column: "quality_ok", as: Int.self) != 0)
            let photo = photoNumbers[fileID] ?? photoNumbers.count
            photoNumbers[fileID] = photo
            snapshot.photos.append(photo)
            snapshot.embeddings += vector
        }
        for row in constraints {
            let kind = try row.decode(column: "kind", as: String.self)
            let subject = try row.decode(column: "subject", as: String.self)
            let other = try row.decode(column: "other", as: String.self)
            switch kind {
            case ClusterConstraint.notPerson:
                if let face = position[subject] { snapshot.excluded[face, default: []].insert(other) }
            case ClusterConstraint.apartFaces:
                if let a = position[subject], let b = position[other] { snapshot.apart.append((a, b)) }
            case ClusterConstraint.differentPeople:
                snapshot.differentPeople.append((subject, other))
            default:
                continue
            }
        }
        return snapshot
    }

    var count: Int { figureIDs.count }

    /// The faces as the clusterer sees them, each in the person given (nil: waiting); faces a
    /// user said are two people share a mark.
    func clusterFaces(persons: [String?]) -> [ClusterFace] {
        var marks: [Int: [Int]] = [:]
        for (index, pair) in apart.enumerated() {
            marks[pair.0, default: []].append(index)
            marks[pair.1, default: []].append(index)
        }
        return (0..<count).map { face in
            ClusterFace(photo: photos[face], highQuality: highQuality[face], person: persons[face],
                        excluded: excluded[face] ?? [], apart: marks[face] ?? [])
        }
    }

    /// Whether the rows are still as read.
    func unchanged(dataset: DatasetKey, db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            SELECT f.figure_id, f.cluster_id, f.pinned
            FROM media_faces f LEFT JOIN media_files m ON m.id = f.file_id
            WHERE f.dataset_key = \(bind: dataset.description) ORDER BY \(unsafeRaw: Self.order)
            """).all()
        var now: [String] = []
        for row in rows {
            now.append("\(try row.decode(column: "figure_id", as: String.self)) \(try row.decode(column: "cluster_id", as: String?.self) ?? "-") \(try row.decode(column: "pinned", as: Int.self) != 0)")
        }
        return now == fingerprint
    }
}
