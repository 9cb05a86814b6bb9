import Foundation
import SQLKit
import VisageCore
import VisageStore

/// The rows people are kept in, read and written for the rules of runs and edits: people
/// (`media_clusters`), their faces (`media_faces`) and what users said about them
/// (`media_cluster_constraints`).
extension FigureClusterStore {
    // MARK: People

    /// The person `id` of the dataset; not-found when there is none.
    func existing(dataset: DatasetKey, id: String, db: any SQLDatabase) async throws -> FigureCluster {
        guard let row = try await db.raw("""
            SELECT * FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: id)
            """).first()
        else { throw VisageError.notFound(kind: .figureCluster, name: id) }
        return try Self.cluster(row)
    }

    /// Which of these people exist.
    func existingIDs(dataset: DatasetKey, among ids: [String], db: any SQLDatabase) async throws -> [String] {
        try await db.raw("""
            SELECT cluster_id FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: ids))
            """).all().map { try $0.decode(column: "cluster_id", as: String.self) }
    }

    /// Creates a person numbered `number` (id `Cluster-<number>`), empty until its faces are set and counted.
    func create(dataset: DatasetKey, number: Int64, db: any SQLDatabase, now: Int64) async throws -> String {
        let id = "Cluster-\(number)"
        let key = dataset.description
        try await db.raw("""
            INSERT INTO media_cluster_numbers (dataset_key, last_number) VALUES (\(bind: key), \(bind: number))
            ON CONFLICT (dataset_key) DO UPDATE SET last_number = \(bind: number)
            """).run()
        try await db.raw("""
            INSERT INTO media_clusters (dataset_key, cluster_id, number, name, custom_labels, cover_figure_id, cover_pinned,
                                        image_count, face_count, lock_version, created_at, updated_at)
            VALUES (\(bind: dataset.description), \(bind: id), \(bind: number), '', '{}', NULL, 0, 0, 0, 0, \(bind: now), \(bind: now))
            """).run()
        return id
    }

    /// The next free person number of a dataset.
    func nextNumber(dataset: DatasetKey, db: any SQLDatabase) async throws -> Int64 {
        let key = dataset.description
        let existing = try await db.raw("""
            SELECT MAX(number) AS n FROM media_clusters WHERE dataset_key = \(bind: key)
            """).first()?.decode(column: "n", as: Int64?.self) ?? 0
        let used = try await db.raw("""
            SELECT last_number FROM media_cluster_numbers WHERE dataset_key = \(bind: key)
            """).first()?.decode(column: "last_number", as: Int64.self) ?? 0
        return max(existing, used) + 1
    }

    /// Inserts a person's row as a part recorded it, with no faces yet.
    func insertRow(_ part: PeopleEdit.Part, dataset: DatasetKey, db: any SQLDatabase, now: Int64) async throws {
        try await db.raw("""
            INSERT INTO media_clusters (dataset_key, cluster_id, number, name, custom_labels, cover_figure_id, cover_pinned,
                                        image_count, face_count, lock_version, created_at, updated_at)
            VALUES (\(bind: dataset.description), \(bind: part.id), \(bind: part.number), \(bind: part.name),
                    \(bind: JSONValue.object(part.customLabels.mapValues(JSONValue.string)).text), \(bind: part.coverFigureID),
                    \(bind: part.coverPinned ? 1 : 0), 0, 0, 0, \(bind: part.created), \(bind: now))
            """).run()
    }

    /// Removes these people's rows (their faces are elsewhere by then).
    func deleteRows(dataset: DatasetKey, people: [String], db: any SQLDatabase) async throws {
        try await db.raw("""
            DELETE FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: people))
            """).run()
    }

    /// Writes a person's name, labels, cover and counts, and bumps its lock version.
    func save(_ cluster: FigureCluster, dataset: DatasetKey, db: any SQLDatabase, now: Int64 = WallClock.nowMillis()) async throws {
        try await db.raw("""
            UPDATE media_clusters SET name = \(bind: cluster.name),
                custom_labels = \(bind: JSONValue.object(cluster.customLabels.mapValues(JSONValue.string)).text),
                cover_figure_id = \(bind: cluster.coverFigureID), cover_pinned = \(bind: cluster.coverPinned ? 1 : 0),
                image_count = \(bind: cluster.imageCount), face_count = \(bind: cluster.faceCount),
                lock_version = lock_version + 1, updated_at = \(bind: now)
            WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster.id)
            """).run()
    }

    /// A person from its row.
    static func cluster(_ row: any SQLRow) throws -> FigureCluster {
        let labels = JSONValue(parsing: try row.decode(column: "custom_labels", as: String.self))?.objectValue ?? [:]
        return FigureCluster(
            id: try row.decode(column: "cluster_id", as: String.self), number: try row.decode(column: "number", as: Int64.self),
            name: try row.decode(column: "name", as: String.self), customLabels: labels.compactMapValues(\.stringValue),
            coverFigureID: try row.decode(column: "cover_figure_id", as: String?.self),
            coverPinned: try row.decode(column: "cover_pinned", as: Int.self) != 0,
            imageCount: try row.decode(column: "image_count", as: Int.self), faceCount: try row.decode(column: "face_count", as: Int.self),
            lockVersion: try row.decode(column: "lock_version", as: Int64.self),
            created: try row.decode(column: "created_at", as: Int64.self), updated: try row.decode(column: "updated_at", as: Int64.self))
    }

    /// A person as a history part: its row, faces, pinned faces and exclusions.
    func part(dataset: DatasetKey, id: String, db: any SQLDatabase) async throws -> PeopleEdit.Part {
        let key = dataset.description
        let cluster = try await existing(dataset: dataset, id: id, db: db)
        let faces = try await db.raw("""
            SELECT figure_id, pinned FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
            """).all()
        let excluded = try await db.raw("""
            SELECT subject FROM media_cluster_constraints
            WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.notPerson) AND other = \(bind: id)
            """).all().map { try $0.decode(column: "subject", as: String.self) }
        return PeopleEdit.Part(
            id: id, number: cluster.number, name: cluster.name, customLabels: cluster.customLabels, coverFigureID: cluster.coverFigureID,
            coverPinned: cluster.coverPinned, created: cluster.created,
            faces: try faces.map { try $0.decode(column: "figure_id", as: String.self) },
            pinned: try faces.filter { try $0.decode(column: "pinned", as: Int.self) != 0 }
                .map { try $0.decode(column: "figure_id", as: String.self) },
            excluded: excluded)
    }

    // MARK: Faces

    /// A face's file, person and whether a user pinned it there.
    func face(dataset: DatasetKey, figureID: String, db: any SQLDatabase) async throws -> (file: String, cluster: String?, pinned: Bool) {
        guard let row = try await db.raw("""
            SELECT file_id, cluster_id, pinned FROM media_faces
            WHERE figure_id = \(bind: figureID) AND dataset_key = \(bind: dataset.description)
            """).first()
        else { throw VisageError.notFound(kind: .figure, name: figureID) }
        return (try row.decode(column: "file_id", as: String.self), try row.decode(column: "cluster_id", as: String?.self),
                try row.decode(column: "pinned", as: Int.self) != 0)
    }

    /// A person's faces, in id order.
    func faceIDs(dataset: DatasetKey, cluster: String, db: any SQLDatabase) async throws -> [String] {
        try await db.raw("""
            SELECT figure_id FROM media_faces WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster)
            ORDER BY figure_id
            """).all().map { try $0.decode(column: "figure_id", as: String.self) }
    }

    /// A person's faces, with the file each is in.
    func faceFiles(dataset: DatasetKey, person: String, db: any SQLDatabase) async throws -> [String: String] {
        let rows = try await db.raw("""
            SELECT figure_id, file_id FROM media_faces WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: person)
            """).all()
        return Dictionary(try rows.map { (try $0.decode(column: "figure_id", as: String.self),
                                          try $0.decode(column: "file_id", as: String.self)) }) { first, _ in first }
    }

    /// Whether `face` is one of `person`'s faces.
    func holds(dataset: DatasetKey, person: String, face: String, db: any SQLDatabase) async throws -> Bool {
        try await db.raw("""
            SELECT 1 FROM media_faces WHERE figure_id = \(bind: face) AND dataset_key = \(bind: dataset.description)
              AND cluster_id = \(bind: person)
            """).first() != nil
    }

    /// A face of `file` other than `face` that a run, not a user, put in `person`.
    func unconfirmedFace(of file: String, in person: String, besides face: String, db: any SQLDatabase) async throws -> String? {
        try await db.raw("""
            SELECT figure_id FROM media_faces WHERE file_id = \(bind: file) AND cluster_id = \(bind: person)
              AND figure_id <> \(bind: face) AND pinned = 0
            """).first()?.decode(column: "figure_id", as: String.self)
    }

    /// The files holding a face of any of these people.
    func fileIDs(dataset: DatasetKey, people: [String], db: any SQLDatabase) async throws -> [String] {
        try await db.raw("""
            SELECT DISTINCT file_id FROM media_faces WHERE dataset_key = \(bind: dataset.description)
              AND cluster_id IN (\(binds: people + [""]))
            """).all().map { try $0.decode(column: "file_id", as: String.self) }
    }

    /// How many faces these people hold.
    func faceCount(dataset: DatasetKey, people: [String], db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            SELECT COUNT(*) AS n FROM media_faces WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: people))
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Puts these faces in `person` (`ReservedCluster.independent`: in none), placed by a user
    /// (`pinned`) or not.
    func assign(_ faces: [String], to person: String, pinned: Bool, dataset: DatasetKey, db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE media_faces SET cluster_id = \(bind: person), pinned = \(bind: pinned ? 1 : 0)
            WHERE dataset_key = \(bind: dataset.description) AND figure_id IN (\(binds: faces))
            """).run()
    }

    /// Moves every face of `sources` to `target`, each pinned or not as it was.
    func moveFaces(dataset: DatasetKey, from sources: [String], to target: String, db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE media_faces SET cluster_id = \(bind: target)
            WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: sources))
            """).run()
    }

    // MARK: What users said

    /// "Not this person": keeps `face` out of `person`.
    func addExclusion(dataset: DatasetKey, face: String, person: String, db: any SQLDatabase, now: Int64) async throws {
        try await db.raw("""
            INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
            VALUES (\(bind: dataset.description), \(bind: ClusterConstraint.notPerson), \(bind: face), \(bind: person), \(bind: now))
            ON CONFLICT DO NOTHING
            """).run()
    }

    /// Lifts "not this person" for `face` and `person`.
    func liftExclusion(dataset: DatasetKey, face: String, person: String, db: any SQLDatabase) async throws {
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: dataset.description)
              AND kind = \(bind: ClusterConstraint.notPerson) AND subject = \(bind: face) AND other = \(bind: person)
            """).run()
    }

    /// Keeps the faces kept out of `source` out of `target` too.
    func copyExclusions(dataset: DatasetKey, from source: String, to target: String, db: any SQLDatabase, now: Int64) async throws {
        try await db.raw("""
            INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
            SELECT dataset_key, kind, subject, \(bind: target), \(bind: now) FROM media_cluster_constraints
            WHERE dataset_key = \(bind: dataset.description) AND kind = \(bind: ClusterConstraint.notPerson) AND other = \(bind: source)
            ON CONFLICT DO NOTHING
            """).run()
    }

    /// Forgets what names people merged away: the faces kept out of them, and the splits runs
    /// made from or of them.
    func forgetConstraints(dataset: DatasetKey, about people: [String], db: any SQLDatabase) async throws {
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: dataset.description)
              AND ((kind = \(bind: ClusterConstraint.notPerson) AND other IN (\(binds: people)))
                OR (kind = \(bind: ClusterConstraint.splitOff) AND (subject IN (\(binds: people)) OR other IN (\(binds: people)))))
            """).run()
    }
}
