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
            let touched: Touched
            switch entry.edit {
            case let .rename(person, before):
                touched = try await undoRename(person, before: before, dataset: dataset, db: db)
            case let .merge(person, sources, personFaces, personExcluded, differences, renamed):
                touched = try await undoMerge(into: person, sources: sources, held: personFaces, excluded: personExcluded,
                                              differences: differences, renamed: renamed, dataset: dataset, db: db)
            case let .split(person, made):
                touched = try await undoSplit(person, made: made, dataset: dataset, db: db)
            case let .move(person, face, faceWasPinned, _):
                touched = try await undoFaceMove(face, back: person, pinned: faceWasPinned, excluded: false, dataset: dataset, db: db)
            case let .exclude(person, face, faceWasPinned, _):
                touched = try await undoFaceMove(face, back: person, pinned: faceWasPinned, excluded: true, dataset: dataset, db: db)
            case let .recluster(removed, renamed, moves):
                touched = try await undoRecluster(removed: removed, renamed: renamed, moves: moves, dataset: dataset, db: db)
            case let .apartFaces(_, face, other):
                touched = try await undoDifference(.apartFaces, face, other, dataset: dataset, db: db)
            case let .differentPeople(person, other):
                touched = try await undoDifference(.differentPeople, person, other, dataset: dataset, db: db)
            }
            try await db.raw("""
                UPDATE media_cluster_history SET undone = 1 WHERE dataset_key = \(bind: key) AND sequence = \(bind: entry.sequence)
                """).run()
            let files = touched.files.union(try await fileIDs(dataset: dataset, people: Array(touched.people), db: db))
            try await recount(dataset: dataset, clusters: Array(touched.people), db: db)
            try await writeBack(fileIDs: Array(files), db: db)
            return entry
        }
    }

    /// A rename undone: the person's name, labels and cover as they were.
    private func undoRename(_ person: String, before: PeopleEdit.Part, dataset: DatasetKey, db: any SQLDatabase) async throws -> Touched {
        var cluster = try await surviving(dataset: dataset, id: person, db: db)
        cluster.name = before.name
        cluster.customLabels = before.customLabels
        cluster.coverFigureID = before.coverFigureID
        cluster.coverPinned = before.coverPinned
        try await save(cluster, dataset: dataset, db: db)
        return Touched(people: [person])
    }

    /// A merge undone: the sources come back with their faces and exclusions, the person merged
    /// into keeps only what it held, and the statements about them hold as before.
    private func undoMerge(into person: String, sources: [PeopleEdit.Part], held: [String], excluded: [String],
                           differences: [[String]]?, renamed: PeopleEdit.Part?, dataset: DatasetKey,
                           db: any SQLDatabase) async throws -> Touched {
        var survivor = try await surviving(dataset: dataset, id: person, db: db)
        // The name the merge brought along goes back with its source, unless renamed since.
        if let renamed, survivor.name == sources.first(where: { !$0.name.isEmpty })?.name {
            survivor.name = renamed.name
            try await save(survivor, dataset: dataset, db: db)
        }
        let now = WallClock.nowMillis()
        for part in sources {
            try await restore(part, dataset: dataset, from: person, db: db, now: now)
        }
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: dataset.description)
              AND kind = \(bind: ClusterConstraint.notPerson) AND other = \(bind: person) AND subject NOT IN (\(binds: excluded + [""]))
            """).run()
        if let differences {
            try await restoreDifferences(differences, merged: sources.map(\.id), into: person, dataset: dataset, db: db)
        }
        // Faces the merged person gained since go to whichever person they sit nearest.
        let known = Set(held + sources.flatMap(\.faces))
        let gained = try await faceIDs(dataset: dataset, cluster: person, db: db).filter { !known.contains($0) }
        try await place(gained, among: [person] + sources.map(\.id), dataset: dataset, db: db)
        return Touched(people: Set([person] + sources.map(\.id)))
    }

    /// A split undone: the new person's faces go back, pinned where either side had them pinned.
    private func undoSplit(_ person: String, made: PeopleEdit.Part, dataset: DatasetKey, db: any SQLDatabase) async throws -> Touched {
        let key = dataset.description
        _ = try await surviving(dataset: dataset, id: person, db: db)
        let pinned = Set(try await part(dataset: dataset, id: person, db: db).pinned)
        for face in try await faceIDs(dataset: dataset, cluster: made.id, db: db) {
            try await db.raw("""
                UPDATE media_faces SET cluster_id = \(bind: person), pinned = \(bind: made.pinned.contains(face) || pinned.contains(face) ? 1 : 0)
                WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
                """).run()
        }
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key) AND other = \(bind: made.id)
            """).run()
        return Touched(people: [person, made.id])
    }

    /// A face moved or kept out by hand goes back to `person` (or to no person), pinned as it
    /// was; undoing "not this person" lifts the exclusion too.
    private func undoFaceMove(_ face: String, back person: String, pinned: Bool, excluded: Bool,
                              dataset: DatasetKey, db: any SQLDatabase) async throws -> Touched {
        let key = dataset.description
        var touched = Touched(people: person == ReservedCluster.independent ? [] : [person])
        if let file = try await db.raw("""
            SELECT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
            """).first()?.decode(column: "file_id", as: String.self) {
            touched.files.insert(file)
        }
        if excluded { try await liftExclusion(dataset: dataset, face: face, person: person, db: db) }
        if person != ReservedCluster.independent { _ = try await surviving(dataset: dataset, id: person, db: db) }
        if let now = try await db.raw("""
            SELECT cluster_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id = \(bind: face)
            """).first()?.decode(column: "cluster_id", as: String?.self), now != ReservedCluster.independent {
            touched.people.insert(now)
        }
        try await assign([face], to: person, pinned: pinned, dataset: dataset, db: db)
        return touched
    }

    /// A re-clustering undone: the people it took away come back, the names it changed are as
    /// they were, and its faces go back.
    private func undoRecluster(removed: [PeopleEdit.Part], renamed: [PeopleEdit.Part], moves: [String: PeopleEdit.FaceMove],
                               dataset: DatasetKey, db: any SQLDatabase) async throws -> Touched {
        let key = dataset.description
        var touched = Touched(people: [])
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
            touched.people.formUnion([from, to].filter { $0 != ReservedCluster.independent })
        }
        touched.files.formUnion(try await db.raw("""
            SELECT DISTINCT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id IN (\(binds: Array(moves.keys) + [""]))
            """).all().map { try $0.decode(column: "file_id", as: String.self) })
        return touched
    }

    /// "These two are different" undone: the statement is lifted; for two faces, the parts a
    /// run split apart for it join again (which recounts what it changes itself).
    private func undoDifference(_ kind: PeopleEdit.Kind, _ subject: String, _ other: String,
                                dataset: DatasetKey, db: any SQLDatabase) async throws -> Touched {
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: dataset.description)
              AND kind = \(bind: kind.rawValue) AND subject = \(bind: min(subject, other)) AND other = \(bind: max(subject, other))
            """).run()
        if kind == .apartFaces { try await rejoin(dataset: dataset, faces: subject, other, db: db) }
        return Touched(people: [])
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
        for face in part.excluded { try await addExclusion(dataset: dataset, face: face, person: part.id, db: db, now: now) }
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
            vectors[id] = try Self.vector(row)
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

/// What undoing an edit touched: the people to recount, and the files whose documents to
/// rewrite besides those of these people's faces.
private struct Touched: Sendable {
    var people: Set<String>
    var files: Set<String> = []
}
