import Foundation
import SQLKit
import VisageCore
import VisageStore

/// An edit as the history lists it.
public struct PeopleHistoryEntry: Sendable, Equatable {
    public let sequence: Int64
    public let edit: PeopleEdit
    public let created: Int64
    public let undone: Bool
}

extension FigureClusterStore {
    // MARK: History

    /// The dataset's edits, newest first.
    public func history(dataset: DatasetKey, limit: Int = 100) async throws -> [PeopleHistoryEntry] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT sequence, payload, created_at, undone FROM media_cluster_history
                WHERE dataset_key = \(bind: dataset.description) ORDER BY sequence DESC LIMIT \(bind: limit)
                """).all()
        }.map { row in
            PeopleHistoryEntry(
                sequence: try row.decode(column: "sequence", as: Int64.self),
                edit: try JSONDecoder().decode(PeopleEdit.self, from: Data(try row.decode(column: "payload", as: String.self).utf8)),
                created: try row.decode(column: "created_at", as: Int64.self),
                undone: try row.decode(column: "undone", as: Int.self) != 0)
        }
    }

    /// Records an edit inside the transaction that makes it.
    func record(_ edit: PeopleEdit, dataset: DatasetKey, db: any SQLDatabase) async throws {
        let key = dataset.description
        let next = (try await db.raw("""
            SELECT MAX(sequence) AS n FROM media_cluster_history WHERE dataset_key = \(bind: key)
            """).first()?.decode(column: "n", as: Int64?.self) ?? 0) + 1
        let payload = String(decoding: try JSONEncoder().encode(edit), as: UTF8.self)
        try await db.raw("""
            INSERT INTO media_cluster_history (dataset_key, sequence, kind, payload, created_at, undone)
            VALUES (\(bind: key), \(bind: next), \(bind: edit.kind.rawValue), \(bind: payload), \(bind: WallClock.nowMillis()), 0)
            """).run()
    }

    /// A person as a history part: its row, faces, pinned faces and exclusions.
    func part(dataset: DatasetKey, id: String, db: any SQLDatabase) async throws -> PeopleEdit.Part {
        let key = dataset.description
        guard let row = try await db.raw("""
            SELECT * FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
            """).first()
        else { throw VisageError.notFound(kind: .figureCluster, name: id) }
        let cluster = try Self.cluster(row)
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

    // MARK: Undo

    /// Undoes an edit: the newest one not yet undone, or the one numbered `sequence` (a merge
    /// can be undone long after, with photos added since). Returns the edit undone.
    @discardableResult
    public func undo(dataset: DatasetKey, sequence: Int64? = nil) async throws -> PeopleHistoryEntry {
        try await store.withTransaction { db in
            let key = dataset.description
            let query: SQLQueryString = sequence.map { "AND sequence = \(bind: $0)" } ?? "AND undone = 0 ORDER BY sequence DESC LIMIT 1"
            guard let row = try await db.raw("""
                SELECT sequence, payload, created_at, undone FROM media_cluster_history WHERE dataset_key = \(bind: key) \(query)
                """).first()
            else {
                if let sequence { throw VisageError.notFound(kind: .edit, name: String(sequence)) }
                throw VisageError.conflict(kind: .edit, name: "", message: "nothing left to undo")
            }
            let entry = PeopleHistoryEntry(
                sequence: try row.decode(column: "sequence", as: Int64.self),
                edit: try JSONDecoder().decode(PeopleEdit.self, from: Data(try row.decode(column: "payload", as: String.self).utf8)),
                created: try row.decode(column: "created_at", as: Int64.self), undone: false)
            guard try row.decode(column: "undone", as: Int.self) == 0 else {
                throw VisageError.conflict(kind: .edit, name: String(entry.sequence), message: "edit \(entry.sequence) was undone already")
            }
            let edit = entry.edit
            var touched: Set<String> = edit.person == ReservedCluster.independent ? [] : [edit.person]
            var files: Set<String> = []
            switch edit {
            case let .rename(person, before):
                var cluster = try await surviving(dataset: dataset, id: person, db: db)
                cluster.name = before.name
                cluster.customLabels = before.customLabels
                cluster.coverFigureID = before.coverFigureID
                cluster.coverPinned = before.coverPinned
                try await save(cluster, dataset: dataset, db: db)
            case let .merge(person, sources, personFaces, personExcluded, differences):
                _ = try await surviving(dataset: dataset, id: person, db: db)
                let now = WallClock.nowMillis()
                for part in sources {
                    try await restore(part, dataset: dataset, from: person, db: db, now: now)
                    touched.insert(part.id)
                }
                try await db.raw("""
                    DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.notPerson)
                      AND other = \(bind: person) AND subject NOT IN (\(binds: personExcluded + [""]))
                    """).run()
                if let differences {
                    try await restoreDifferences(differences, merged: sources.map(\.id), into: person, dataset: dataset, db: db)
                }
                // Faces the merged person gained since go to whichever person they sit nearest.
                let known = Set(personFaces + sources.flatMap(\.faces))
                let gained = try await faceIDs(dataset: dataset, cluster: person, db: db).filter { !known.contains($0) }
                try await place(gained, among: [person] + sources.map(\.id), dataset: dataset, db: db)
            case let .split(person, made):
                _ = try await surviving(dataset: dataset, id: person, db: db)
                let pinned = Set(try await part(dataset: dataset, id: person, db: db).pinned)
                let faces = try await faceIDs(dataset: dataset, cluster: made.id, db: db)
                for face in faces {
                    try await db.raw("""
                        UPDATE media_faces SET cluster_id = \(bind: person), pinned = \(bind: made.pinned.contains(face) || pinned.contains(face) ? 1 : 0)
                        WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                        """).run()
                }
                try await db.raw("""
                    DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key) AND other = \(bind: made.id)
                    """).run()
                touched.insert(made.id)
            case let .move(person, face, faceWasPinned, _), let .exclude(person, face, faceWasPinned, _):
                if let file = try await db.raw("""
                    SELECT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                    """).first()?.decode(column: "file_id", as: String.self) {
                    files.insert(file)
                }
                if edit.kind == .exclude {
                    try await db.raw("""
                        DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.notPerson)
                          AND subject = \(bind: face) AND other = \(bind: person)
                        """).run()
                }
                if person != ReservedCluster.independent { _ = try await surviving(dataset: dataset, id: person, db: db) }
                if let now = try await db.raw("""
                    SELECT cluster_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                    """).first()?.decode(column: "cluster_id", as: String?.self), now != ReservedCluster.independent {
                    touched.insert(now)
                }
                try await db.raw("""
                    UPDATE media_faces SET cluster_id = \(bind: person), pinned = \(bind: faceWasPinned ? 1 : 0)
                    WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                    """).run()
            case let .recluster(removed, renamed, moves):
                let now = WallClock.nowMillis()
                for part in removed where try await db.raw("""
                    SELECT 1 FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: part.id)
                    """).first() == nil {
                    try await insertRow(part, dataset: dataset, db: db, now: now)
                }
                for part in renamed {
                    var cluster = try await surviving(dataset: dataset, id: part.id, db: db)
                    cluster.name = part.name
                    cluster.customLabels = part.customLabels
                    try await save(cluster, dataset: dataset, db: db, now: now)
                }
                // Faces go back where they were, unless a later edit has moved them since.
                for (face, move) in moves {
                    let (from, to) = (move.from.isEmpty ? ReservedCluster.independent : move.from,
                                      move.to.isEmpty ? ReservedCluster.independent : move.to)
                    try await db.raw("""
                        UPDATE media_faces SET cluster_id = \(bind: from)
                        WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face) AND cluster_id = \(bind: to)
                        """).run()
                    touched.formUnion([from, to].filter { $0 != ReservedCluster.independent })
                }
                files.formUnion(try await db.raw("""
                    SELECT DISTINCT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id IN (\(binds: Array(moves.keys) + [""]))
                    """).all().map { try $0.decode(column: "file_id", as: String.self) })
            case let .apartFaces(_, subject, other), let .differentPeople(subject, other):
                try await db.raw("""
                    DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
                      AND kind = \(bind: edit.kind.rawValue) AND subject = \(bind: min(subject, other)) AND other = \(bind: max(subject, other))
                    """).run()
                touched = []
                if edit.kind == .apartFaces { try await rejoin(dataset: dataset, faces: subject, other, db: db) }
            }
            try await db.raw("""
                UPDATE media_cluster_history SET undone = 1 WHERE dataset_key = \(bind: key) AND sequence = \(bind: entry.sequence)
                """).run()
            files.formUnion(try await db.raw("""
                SELECT DISTINCT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: Array(touched) + [""]))
                """).all().map { try $0.decode(column: "file_id", as: String.self) })
            try await recount(dataset: dataset, clusters: Array(touched), db: db)
            try await writeBack(fileIDs: Array(files), db: db)
            return entry
        }
    }

    /// The person `id` of the dataset; not-found when there is none.
    func existing(dataset: DatasetKey, id: String, db: any SQLDatabase) async throws -> FigureCluster {
        guard let row = try await db.raw("""
            SELECT * FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: id)
            """).first()
        else { throw VisageError.notFound(kind: .figureCluster, name: id) }
        return try Self.cluster(row)
    }

    /// A person an edit being undone names. Gone since (merged away or emptied) is a conflict
    /// with a later edit, not a bad request: undoing that one first makes this undo possible.
    private func surviving(dataset: DatasetKey, id: String, db: any SQLDatabase) async throws -> FigureCluster {
        do {
            return try await existing(dataset: dataset, id: id, db: db)
        } catch VisageError.notFound {
            throw VisageError.conflict(kind: .edit, name: id, message: "\(id) is gone (merged or emptied since); undo that first")
        }
    }

    private func faceIDs(dataset: DatasetKey, cluster: String, db: any SQLDatabase) async throws -> [String] {
        try await db.raw("""
            SELECT figure_id FROM media_faces WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster)
            ORDER BY figure_id
            """).all().map { try $0.decode(column: "figure_id", as: String.self) }
    }

    /// Brings back a merged-away person with its row, its faces still in `holder`, and its exclusions.
    private func restore(_ part: PeopleEdit.Part, dataset: DatasetKey, from holder: String, db: any SQLDatabase, now: Int64) async throws {
        let key = dataset.description
        try await insertRow(part, dataset: dataset, db: db, now: now)
        let pinned = Set(part.pinned)
        for face in part.faces {
            try await db.raw("""
                UPDATE media_faces SET cluster_id = \(bind: part.id), pinned = \(bind: pinned.contains(face) ? 1 : 0)
                WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face) AND cluster_id = \(bind: holder)
                """).run()
        }
        for face in part.excluded {
            try await db.raw("""
                INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
                VALUES (\(bind: key), \(bind: ClusterConstraint.notPerson), \(bind: face), \(bind: part.id), \(bind: now))
                ON CONFLICT DO NOTHING
                """).run()
        }
    }

    /// Inserts a person's row as a part recorded it, with no faces yet.
    private func insertRow(_ part: PeopleEdit.Part, dataset: DatasetKey, db: any SQLDatabase, now: Int64) async throws {
        try await db.raw("""
            INSERT INTO media_clusters (dataset_key, cluster_id, number, name, custom_labels, cover_figure_id, cover_pinned,
                                        image_count, face_count, lock_version, created_at, updated_at)
            VALUES (\(bind: dataset.description), \(bind: part.id), \(bind: part.number), \(bind: part.name),
                    \(bind: JSONValue.object(part.customLabels.mapValues(JSONValue.string)).text), \(bind: part.coverFigureID),
                    \(bind: part.coverPinned ? 1 : 0), 0, 0, 0, \(bind: part.created), \(bind: now))
            """).run()
    }

    /// Puts each face with the person among `people` whose faces it is nearest to on average,
    /// never with one that has a face of the same image or that the face is kept out of.
    private func place(_ faces: [String], among people: [String], dataset: DatasetKey, db: any SQLDatabase) async throws {
        guard !faces.isEmpty else { return }
        let key = dataset.description
        let rows = try await db.raw("""
            SELECT figure_id, file_id, cluster_id, embedding FROM media_faces
            WHERE dataset_key = \(bind: key) AND (cluster_id IN (\(binds: people)) OR figure_id IN (\(binds: faces)))
            """).all()
        var vectors: [String: [Float]] = [:], files: [String: String] = [:], members: [String: [String]] = [:]
        let moving = Set(faces)
        for row in rows {
            let id = try row.decode(column: "figure_id", as: String.self)
            vectors[id] = try row.decode(column: "embedding", as: Data.self).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            files[id] = try row.decode(column: "file_id", as: String.self)
            if !moving.contains(id), let person = try row.decode(column: "cluster_id", as: String?.self) {
                members[person, default: []].append(id)
            }
        }
        var excluded: [String: Set<String>] = [:]
        for row in try await db.raw("""
            SELECT subject, other FROM media_cluster_constraints
            WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.notPerson) AND subject IN (\(binds: faces))
            """).all() {
            excluded[try row.decode(column: "subject", as: String.self), default: []].insert(try row.decode(column: "other", as: String.self))
        }
        func average(_ face: String, _ person: String) -> Float {
            let others = members[person, default: []]
            guard let vector = vectors[face], !others.isEmpty else { return .infinity }
            return others.reduce(Float(0)) { sum, other in
                sum + zip(vector, vectors[other] ?? vector).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            } / Float(others.count)
        }
        for face in faces.sorted() {
            let allowed = people.filter { person in
                !(excluded[face]?.contains(person) ?? false)
                    && !members[person, default: []].contains { files[$0] == files[face] }
            }
            guard let best = allowed.min(by: { (average(face, $0), $0) < (average(face, $1), $1) }) else { continue }
            try await db.raw("""
                UPDATE media_faces SET cluster_id = \(bind: best) WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                """).run()
        }
    }
}
