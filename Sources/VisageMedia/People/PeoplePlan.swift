import Foundation
import SQLKit
import VisageCore
import VisageStore

/// What a clustering run or a re-clustering decided: where faces go and which people it makes.
struct PeoplePlan: Sendable {
    /// Where a face goes.
    enum Target: Sendable, Hashable {
        case person(String)
        /// A person the plan makes (index into `created`).
        case created(Int)
        case waiting
    }

    /// A person the plan makes, and whom it takes over from.
    struct NewPerson: Sendable {
        var name = ""
        var customLabels: [String: String] = [:]
        /// People whose "not this person" faces it keeps out too.
        var exclusionsFrom: [String] = []
        /// People it takes the place of (merged into it by a re-clustering), whose "these two
        /// are different" statements hold for it too.
        var differencesFrom: [String] = []
        /// The person a run split it off to keep apart faces a user said are different.
        var splitFrom: String?
    }

    /// The faces (positions in the snapshot) that change place.
    var targets: [Int: Target] = [:]
    var created: [NewPerson] = []
    /// Existing people that take the name (and labels) of a person merged into them.
    var names: [String: (name: String, labels: [String: String])] = [:]
    /// People that go away, with the person that takes their place: keeps their "not this
    /// person" faces out and is different from whom they were said to be different.
    var mergedInto: [String: String] = [:]

    var isEmpty: Bool { targets.isEmpty }
}

extension FigureClusterStore {
    /// Writes a plan made from `snapshot`, inside the caller's transaction: people made, faces
    /// moved, exclusions carried over, names set, every touched person recounted and every
    /// touched file's document rewritten. Returns the new people's ids and the existing
    /// people that changed.
    func apply(_ plan: PeoplePlan, snapshot: FaceSnapshot, dataset: DatasetKey, db: any SQLDatabase, now: Int64)
        async throws -> (created: [String], updated: [String]) {
        let key = dataset.description
        var number = try await nextNumber(dataset: dataset, db: db)
        var createdIDs: [String] = []
        for person in plan.created {
            let id = try await create(dataset: dataset, number: number, db: db, now: now)
            number += 1
            createdIDs.append(id)
            if !person.name.isEmpty || !person.customLabels.isEmpty {
                var cluster = try await existing(dataset: dataset, id: id, db: db)
                cluster.name = person.name
                cluster.customLabels = person.customLabels
                try await save(cluster, dataset: dataset, db: db, now: now)
            }
            for source in person.exclusionsFrom { try await copyExclusions(dataset: dataset, from: source, to: id, db: db, now: now) }
            for source in person.differencesFrom { try await copyDifferences(dataset: dataset, from: source, to: id, db: db) }
            if let origin = person.splitFrom {
                try await db.raw("""
                    INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
                    VALUES (\(bind: key), \(bind: ClusterConstraint.splitOff), \(bind: id), \(bind: origin), \(bind: now))
                    """).run()
            }
        }
        var updated: Set<String> = []
        var files: Set<String> = []
        var byTarget: [String: [String]] = [:]
        for (face, target) in plan.targets {
            let id: String
            switch target {
            case let .person(person): id = person; updated.insert(person)
            case let .created(index): id = createdIDs[index]
            case .waiting: id = ReservedCluster.independent
            }
            if let before = snapshot.clusters[face] { updated.insert(before) }
            byTarget[id, default: []].append(snapshot.figureIDs[face])
            // A face no person takes shows IMM's `figure-cluster-id-independent` from then on.
            files.insert(snapshot.fileIDs[face])
        }
        for (id, figures) in byTarget {
            for chunk in stride(from: 0, to: figures.count, by: 500).map({ Array(figures[$0..<min(figures.count, $0 + 500)]) }) {
                try await db.raw("""
                    UPDATE media_faces SET cluster_id = \(bind: id) WHERE dataset_key = \(bind: key) AND figure_id IN (\(binds: chunk))
                    """).run()
            }
        }
        for (person, change) in plan.names {
            var cluster = try await existing(dataset: dataset, id: person, db: db)
            cluster.name = change.name
            cluster.customLabels = change.labels
            try await save(cluster, dataset: dataset, db: db, now: now)
        }
        for (source, target) in plan.mergedInto {
            try await copyExclusions(dataset: dataset, from: source, to: target, db: db, now: now)
            try await copyDifferences(dataset: dataset, from: source, to: target, db: db)
        }
        let changed = updated.subtracting(createdIDs).sorted()
        try await recount(dataset: dataset, clusters: createdIDs + changed, db: db, now: now)
        try await writeBack(fileIDs: files.sorted(), db: db)
        return (createdIDs, changed)
    }
}
