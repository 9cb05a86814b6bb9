import Foundation
import VisageCore
import VisageStore

/// What a re-clustering would do (or did) to a dataset's people.
public struct ReclusterPreview: Sendable, Equatable, Codable {
    /// What happens to one person.
    public struct Change: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable {
            /// The person lives on (with its id, name and labels), perhaps with other faces.
            case kept
            /// A new person.
            case created
            /// Most of its faces join another person, which takes over its name if it had none.
            case merged
            /// Its faces go to two or more people; it lives on with the largest part.
            case split
            /// Most of its faces wait for a person again.
            case dissolved
        }

        public var kind: Kind
        /// The person's id; for a new person `new-<n>`, its id is given when applied.
        public var person: String
        public var name: String
        public var facesBefore: Int
        public var facesAfter: Int
        /// merged: the person it joins; split: the people that take some of its faces.
        public var into: [String] = []
    }

    public var changes: [Change] = []
    /// Faces that change person (or start or stop waiting).
    public var movedFaces = 0
    /// Whether it was written (false for a dry run).
    public var applied = false

    /// How many changes of a kind.
    public func count(_ kind: Change.Kind) -> Int { changes.filter { $0.kind == kind }.count }
}

extension FigureClustering {
    /// Clusters a dataset's faces again from scratch with `settings` (new thresholds, say),
    /// keeping what users said: faces a user placed stay with their person, and every "not this
    /// person" and "these two are different" holds. The new people are matched to the old
    /// ones by the faces they share (most shared first), so ids, names and labels carry over;
    /// a person whose faces mostly join another hands its name on when that one has none.
    /// With `apply` false nothing is written: the preview lists what would change. Applying
    /// is refused when the faces changed since they were read. `progress` hears how far it got.
    public func recluster(dataset: DatasetKey, settings: ClusterSettings, apply: Bool,
                          progress: @Sendable (Double) async -> Void = { _ in }) async throws -> ReclusterPreview {
        let snapshot = try await FaceSnapshot.read(dataset: dataset, store: store)
        await progress(0.05)
        let people = try await clusters.clusters(dataset: dataset, ids: Array(Set(snapshot.clusters.compactMap { $0 })))
        let byID = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0) })

        // Every face is placed again, as if none had a person yet.
        let none = [String?](repeating: nil, count: snapshot.count)
        let placement = snapshot.count == 0 ? [:]
            : try await place(snapshot, persons: none, settings: settings, range: 0.05...0.85, progress: progress)
        var grouped: [Int: [Int]] = [:]
        for (face, place) in placement { if case let .new(group) = place { grouped[group, default: []].append(face) } }
        // Groups holding faces users said are different are split.
        let separation = PeopleSeparation(embeddings: snapshot.embeddings, dimension: snapshot.dimension)
        let conflict = PeopleSeparation.conflicts(snapshot, owners: snapshot.clusters)
        var groups = separation.separate(grouped.keys.sorted().map { grouped[$0]!.sorted() }, conflict: conflict).flatMap { $0 }

        // Match the groups to the old people they share the most faces with; a face a user
        // placed weighs more than all the others, so its person keeps the group that holds it.
        var identity = [String?](repeating: nil, count: groups.count)
        var taken: Set<String> = []
        var shared: [(weight: Int, person: String, group: Int)] = []
        for (group, members) in groups.enumerated() {
            var weights: [String: Int] = [:]
            for face in members {
                if let old = snapshot.clusters[face] { weights[old, default: 0] += snapshot.pinned[face] ? 1_000_000 : 1 }
            }
            shared += weights.map { (weight: $0.value, person: $0.key, group: group) }
        }
        for candidate in shared.sorted(by: { ($0.weight, $1.person, $1.group) > ($1.weight, $0.person, $0.group) })
        where identity[candidate.group] == nil && !taken.contains(candidate.person) {
            identity[candidate.group] = candidate.person
            taken.insert(candidate.person)
        }
        // Faces a user placed go back to their person (a group of their own if it has none
        // left); a face of the same image that was placed with them by the run waits instead.
        var home: [String: Int] = [:]
        for (group, id) in identity.enumerated() { if let id { home[id] = group } }
        var placedBy = [Int](repeating: -1, count: snapshot.count)
        for (group, members) in groups.enumerated() { for face in members { placedBy[face] = group } }
        for face in 0..<snapshot.count where snapshot.pinned[face] {
            guard let person = snapshot.clusters[face], home[person] != placedBy[face] else { continue }
            if placedBy[face] >= 0 { groups[placedBy[face]].removeAll { $0 == face } }
            if home[person] == nil {
                home[person] = groups.count
                groups.append([])
                identity.append(person)
                taken.insert(person)
            }
            let group = home[person]!
            groups[group].removeAll { !snapshot.pinned[$0] && snapshot.photos[$0] == snapshot.photos[face] }
            groups[group].append(face)
            placedBy[face] = group
        }

        // The plan: new groups become people, faces go to their group's person or wait.
        var plan = PeoplePlan()
        var destination: [PlannedPerson?] = []
        for group in groups.indices {
            if let id = identity[group] { destination.append(.existing(id)); continue }
            guard !groups[group].isEmpty else { destination.append(nil); continue }
            plan.created.append(PeoplePlan.NewPerson())
            destination.append(.new(plan.created.count - 1))
        }
        var after = [PlannedPerson?](repeating: nil, count: snapshot.count)
        for (group, members) in groups.enumerated() { for face in members { after[face] = destination[group] } }
        let before = snapshot.clusters.map { $0.map(PlannedPerson.existing) }
        var preview = ReclusterPreview()
        for face in 0..<snapshot.count where after[face] != before[face] || (after[face] == nil && snapshot.neverPlaced[face]) {
            if after[face] != before[face] { preview.movedFaces += 1 }
            switch after[face] {
            case nil: plan.targets[face] = .waiting
            case let .existing(id)?: plan.targets[face] = .person(id)
            case let .new(index)?: plan.targets[face] = .created(index)
            }
        }

        // What happens to each old person, and where unmatched ones hand their name and exclusions.
        let sizeAfter = Dictionary(grouping: after.compactMap { $0 }) { $0 }.mapValues(\.count)
        let old = Dictionary(grouping: snapshot.clusters.indices.filter { snapshot.clusters[$0] != nil }) { snapshot.clusters[$0]! }
        for person in old.keys.sorted(by: { (byID[$0]?.number ?? 0, $0) < (byID[$1]?.number ?? 0, $1) }) {
            let faces = old[person]!
            var destinations: [PlannedPerson: Int] = [:]
            for face in faces { if let target = after[face] { destinations[target, default: 0] += 1 } }
            let name = byID[person]?.name ?? ""
            let itself = PlannedPerson.existing(person)
            var change = ReclusterPreview.Change(kind: .kept, person: person, name: name, facesBefore: faces.count,
                                                 facesAfter: sizeAfter[itself] ?? 0)
            if taken.contains(person) {
                // Split when another person takes at least two of its faces and a fifth of them.
                let others = destinations.filter { $0.key != itself && $0.value >= 2 && $0.value * 5 >= faces.count }
                if !others.isEmpty { change.kind = .split; change.into = others.keys.map(\.label).sorted() }
                // A new person made of this one's faces inherits what users said against it ("not this
                // person", "these two are different"), so a second run with the same settings
                // meets the same conflicts and changes nothing.
                for case let .new(index) in others.keys.sorted(by: { $0.label < $1.label }) {
                    plan.created[index].exclusionsFrom.append(person)
                    plan.created[index].differencesFrom.append(person)
                }
            } else if let (target, count) = destinations.max(by: { ($0.value, $1.key.label) < ($1.value, $0.key.label) }),
                      count * 2 >= faces.count {
                change.kind = .merged
                change.into = [target.label]
                switch target {
                case let .new(index):
                    plan.created[index].exclusionsFrom.append(person)
                    plan.created[index].differencesFrom.append(person)
                    if plan.created[index].name.isEmpty {
                        plan.created[index].name = name
                        plan.created[index].customLabels = byID[person]?.customLabels ?? [:]
                    }
                case let .existing(id):
                    plan.mergedInto[person] = id
                    if !name.isEmpty && (byID[id]?.name ?? "").isEmpty && plan.names[id] == nil {
                        plan.names[id] = (name, byID[person]?.customLabels ?? [:])
                    }
                }
            } else {
                change.kind = .dissolved
            }
            if change.kind != .kept || change.facesAfter != change.facesBefore || destinations[itself] != faces.count {
                preview.changes.append(change)
            }
        }
        for (index, person) in plan.created.enumerated() {
            let planned = PlannedPerson.new(index)
            preview.changes.append(ReclusterPreview.Change(kind: .created, person: planned.label, name: person.name, facesBefore: 0,
                                                           facesAfter: sizeAfter[planned] ?? 0))
        }
        await progress(0.9)
        guard apply, !plan.isEmpty else { return preview }
        let gone = Set(preview.changes.filter { $0.kind == .merged || $0.kind == .dissolved }.map(\.person))
        try await store.withTransaction { [clusters, plan] db in
            guard try await snapshot.unchanged(dataset: dataset, db: db) else {
                throw VisageError.conflict(kind: .clusteringRun, name: dataset.dataset,
                                           message: "the people of \(dataset.dataset) changed while re-clustering; preview again")
            }
            let created = try await clusters.apply(plan, snapshot: snapshot, dataset: dataset, db: db, now: WallClock.nowMillis()).created
            // Recorded with what undoing it needs: the people it took away, the names it changed, the faces it moved.
            var moves: [String: PeopleEdit.FaceMove] = [:]
            for (face, target) in plan.targets {
                let to: String
                switch target {
                case let .person(id): to = id
                case let .created(index): to = created[index]
                case .waiting: to = ""
                }
                moves[snapshot.figureIDs[face]] = PeopleEdit.FaceMove(from: snapshot.clusters[face] ?? "", to: to)
            }
            try await clusters.record(.recluster(removed: people.filter { gone.contains($0.id) }.map(PeopleEdit.Part.row),
                                                 renamed: plan.names.keys.sorted().compactMap { byID[$0].map(PeopleEdit.Part.row) },
                                                 moves: moves),
                                      dataset: dataset, db: db)
        }
        preview.applied = true
        return preview
    }
}

/// Where a face goes in a re-clustering plan: a person that exists, or the plan's n-th new person
/// (named `new-<n+1>` in the preview until it is written and gets its id).
enum PlannedPerson: Hashable {
    case existing(String)
    case new(Int)

    var label: String {
        switch self {
        case let .existing(id): id
        case let .new(index): "new-\(index + 1)"
        }
    }
}
