import Foundation
import SQLKit
import VisageCore
import VisageStore

extension FigureClusterStore {
    /// "These two are different" for two faces: no run ever puts them in one person, and a
    /// person that holds both now is split in two by the next run (each face with the faces
    /// nearer it). Recorded in the history; undoing it lifts the rule (a split stays).
    public func separate(dataset: DatasetKey, figureID: String, from other: String) async throws {
        guard figureID != other else {
            throw VisageError.invalidArgument(field: "Other", message: "a face cannot be different from itself")
        }
        try await store.withTransaction { db in
            let (_, person, _) = try await face(dataset: dataset, figureID: figureID, db: db)
            _ = try await face(dataset: dataset, figureID: other, db: db)
            try await state(ClusterConstraint.apartFaces, figureID, other, dataset: dataset, db: db)
            try await record(.apartFaces(person: person ?? ReservedCluster.independent, face: figureID, other: other),
                             dataset: dataset, db: db)
        }
    }

    /// Undoing "these two are different" for two faces: when a run split one person in two to
    /// keep them apart (and nothing else users said keeps the parts apart now), the part split
    /// off joins the person it came from again, its name going along when that one has none.
    func rejoin(dataset: DatasetKey, faces first: String, _ second: String, db: any SQLDatabase) async throws {
        let key = dataset.description
        let owners = try await db.raw("""
            SELECT cluster_id FROM media_faces WHERE dataset_key = \(bind: key) AND figure_id IN (\(binds: [first, second]))
            """).all().compactMap { try $0.decode(column: "cluster_id", as: String?.self) }
        guard owners.count == 2, owners[0] != owners[1], !owners.contains(ReservedCluster.independent) else { return }
        guard let record = try await db.raw("""
            SELECT subject, other FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
              AND kind = \(bind: ClusterConstraint.splitOff) AND subject IN (\(binds: owners)) AND other IN (\(binds: owners))
            """).first()
        else { return }
        let part = try record.decode(column: "subject", as: String.self), whole = try record.decode(column: "other", as: String.self)
        guard try await !stillApart(dataset: dataset, part, whole, db: db) else { return }
        let (kept, gone) = (try await existing(dataset: dataset, id: whole, db: db), try await existing(dataset: dataset, id: part, db: db))
        if kept.name.isEmpty && !gone.name.isEmpty {
            var named = kept
            named.name = gone.name
            named.customLabels = gone.customLabels
            try await save(named, dataset: dataset, db: db)
        }
        _ = try await join(dataset: dataset, into: whole, from: [part], db: db)
    }

    /// Whether anything users said, or a shared photo, keeps two people's faces apart.
    private func stillApart(dataset: DatasetKey, _ a: String, _ b: String, db: any SQLDatabase) async throws -> Bool {
        let key = dataset.description
        let sharedPhoto = try await db.raw("""
            SELECT 1 FROM media_faces x JOIN media_faces y ON x.file_id = y.file_id AND x.dataset_key = y.dataset_key
            WHERE x.dataset_key = \(bind: key) AND x.cluster_id = \(bind: a) AND y.cluster_id = \(bind: b) LIMIT 1
            """).first() != nil
        let apartFaces = try await db.raw("""
            SELECT 1 FROM media_cluster_constraints c
              JOIN media_faces x ON x.dataset_key = c.dataset_key AND x.figure_id = c.subject
              JOIN media_faces y ON y.dataset_key = c.dataset_key AND y.figure_id = c.other
            WHERE c.dataset_key = \(bind: key) AND c.kind = \(bind: ClusterConstraint.apartFaces)
              AND ((x.cluster_id = \(bind: a) AND y.cluster_id = \(bind: b)) OR (x.cluster_id = \(bind: b) AND y.cluster_id = \(bind: a)))
            LIMIT 1
            """).first() != nil
        let stated = try await db.raw("""
            SELECT 1 FROM media_cluster_constraints c
            WHERE c.dataset_key = \(bind: key) AND (
              (c.kind = \(bind: ClusterConstraint.differentPeople) AND c.subject = \(bind: min(a, b)) AND c.other = \(bind: max(a, b)))
              OR (c.kind = \(bind: ClusterConstraint.notPerson) AND EXISTS (
                SELECT 1 FROM media_faces f WHERE f.dataset_key = c.dataset_key AND f.figure_id = c.subject
                  AND ((f.cluster_id = \(bind: a) AND c.other = \(bind: b)) OR (f.cluster_id = \(bind: b) AND c.other = \(bind: a))))))
            LIMIT 1
            """).first() != nil
        return sharedPhoto || apartFaces || stated
    }

    /// "These two are different" for two people: a re-clustering never joins them (a merge by
    /// a user does, and lifts the rule). Recorded in the history.
    public func distinguish(dataset: DatasetKey, person: String, from other: String) async throws {
        guard person != other else {
            throw VisageError.invalidArgument(field: "Other", message: "a person cannot be different from itself")
        }
        try await store.withTransaction { db in
            _ = try await existing(dataset: dataset, id: person, db: db)
            _ = try await existing(dataset: dataset, id: other, db: db)
            try await state(ClusterConstraint.differentPeople, person, other, dataset: dataset, db: db)
            try await record(.differentPeople(person: person, other: other), dataset: dataset, db: db)
        }
    }

    /// "This is them": the face stays in the person it is in through every later run and
    /// re-clustering. Recorded as a move to where it is.
    public func confirm(dataset: DatasetKey, figureID: String) async throws {
        let person = try await store.withConnection { db in try await face(dataset: dataset, figureID: figureID, db: db).cluster }
        guard let person, person != ReservedCluster.independent else {
            throw VisageError.invalidArgument(field: "FigureId", message: "\(figureID) belongs to no person")
        }
        try await move(dataset: dataset, figureID: figureID, to: person)
    }

    /// Records a symmetric statement about two faces or people, in a fixed order.
    private func state(_ kind: String, _ a: String, _ b: String, dataset: DatasetKey, db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
            VALUES (\(bind: dataset.description), \(bind: kind), \(bind: min(a, b)), \(bind: max(a, b)), \(bind: WallClock.nowMillis()))
            ON CONFLICT DO NOTHING
            """).run()
    }

    /// Copies the "these two are different" statements about `source` to `target`, which takes
    /// its place in a re-clustering. The source's own stay, for an undo that brings it back.
    func copyDifferences(dataset: DatasetKey, from source: String, to target: String, db: any SQLDatabase) async throws {
        let rows = try await db.raw("""
            SELECT subject, other FROM media_cluster_constraints
            WHERE dataset_key = \(bind: dataset.description) AND kind = \(bind: ClusterConstraint.differentPeople)
              AND (subject = \(bind: source) OR other = \(bind: source))
            """).all()
        for row in rows {
            let subject = try row.decode(column: "subject", as: String.self), other = try row.decode(column: "other", as: String.self)
            let them = subject == source ? other : subject
            if them != target { try await state(ClusterConstraint.differentPeople, target, them, dataset: dataset, db: db) }
        }
    }

    /// The "these two are different" statements that name any of `people`, as pairs.
    func differences(dataset: DatasetKey, about people: [String], db: any SQLDatabase) async throws -> [[String]] {
        try await db.raw("""
            SELECT subject, other FROM media_cluster_constraints
            WHERE dataset_key = \(bind: dataset.description) AND kind = \(bind: ClusterConstraint.differentPeople)
              AND (subject IN (\(binds: people)) OR other IN (\(binds: people)))
            ORDER BY subject, other
            """).all().map { [try $0.decode(column: "subject", as: String.self), try $0.decode(column: "other", as: String.self)] }
    }

    /// Undoing a merge: the statements `carryDifferences` gave the person that stays are taken
    /// back, and those recorded before the merge (`before`) hold again.
    func restoreDifferences(_ before: [[String]], merged sources: [String], into target: String,
                            dataset: DatasetKey, db: any SQLDatabase) async throws {
        let pairs = Set(before.filter { $0.count == 2 }.map { Pair(min($0[0], $0[1]), max($0[0], $0[1])) })
        let carried = Set(pairs.compactMap { pair -> Pair? in
            let them = sources.contains(pair.a) ? pair.b : sources.contains(pair.b) ? pair.a : nil
            guard let them, them != target, !sources.contains(them) else { return nil }
            return Pair(min(target, them), max(target, them))
        }).subtracting(pairs)
        for pair in carried {
            try await db.raw("""
                DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: dataset.description)
                  AND kind = \(bind: ClusterConstraint.differentPeople) AND subject = \(bind: pair.a) AND other = \(bind: pair.b)
                """).run()
        }
        for pair in pairs { try await state(ClusterConstraint.differentPeople, pair.a, pair.b, dataset: dataset, db: db) }
    }

    private struct Pair: Hashable {
        let a: String, b: String
        init(_ a: String, _ b: String) { (self.a, self.b) = (a, b) }
    }

    /// Carries the "these two are different" statements about merged-away people over to the
    /// person they joined; a statement between the two is lifted (the user joined them).
    func carryDifferences(dataset: DatasetKey, from sources: [String], to target: String, db: any SQLDatabase) async throws {
        let key = dataset.description
        let people = sources + [target]
        let rows = try await db.raw("""
            SELECT subject, other, created_at FROM media_cluster_constraints
            WHERE dataset_key = \(bind: key) AND kind = \(bind: ClusterConstraint.differentPeople)
              AND (subject IN (\(binds: people)) OR other IN (\(binds: people)))
            """).all()
        for row in rows {
            let subject = try row.decode(column: "subject", as: String.self), other = try row.decode(column: "other", as: String.self)
            try await db.raw("""
                DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
                  AND kind = \(bind: ClusterConstraint.differentPeople) AND subject = \(bind: subject) AND other = \(bind: other)
                """).run()
            let (a, b) = (people.contains(subject) ? target : subject, people.contains(other) ? target : other)
            if a != b { try await state(ClusterConstraint.differentPeople, a, b, dataset: dataset, db: db) }
        }
    }
}
