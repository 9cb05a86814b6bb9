import Foundation
import SQLKit
import Testing
import VisageCore
import VisageStore
import VisageTestSupport
@testable import VisageMedia

@Suite("People undo")
struct PeopleUndoTests {
    /// Where every face is and whether a user put it there, each person's row but for its lock
    /// version and times, and what users said: what undoing an edit must bring back.
    static func state(_ store: MetadataStore) async throws -> [String] {
        try await store.withConnection { db in
            var lines: [String] = []
            for row in try await db.raw("SELECT figure_id, cluster_id, pinned FROM media_faces ORDER BY figure_id").all() {
                lines.append("face \(try row.decode(column: "figure_id", as: String.self)) "
                    + "\(try row.decode(column: "cluster_id", as: String?.self) ?? "-") \(try row.decode(column: "pinned", as: Int.self))")
            }
            for row in try await db.raw("SELECT * FROM media_clusters ORDER BY cluster_id").all() {
                let person = try FigureClusterStore.cluster(row)
                lines.append("person \(person.id) \(person.number) \(person.name) \(person.customLabels) \(person.coverFigureID ?? "-") "
                    + "\(person.coverPinned) \(person.imageCount) \(person.faceCount)")
            }
            for row in try await db.raw("SELECT kind, subject, other FROM media_cluster_constraints ORDER BY kind, subject, other").all() {
                lines.append("said \(try row.decode(column: "kind", as: String.self)) \(try row.decode(column: "subject", as: String.self)) "
                    + "\(try row.decode(column: "other", as: String.self))")
            }
            return lines
        }
    }

    /// A dataset clustered into the three people `a`, `b` and `c`, handed to `body` with their ids.
    static func withThreePeople(_ engine: TestEngine,
                                _ body: (MetadataStore, FigureClustering, FigureClusterStore, _ a: String, _ b: String, _ c: String)
                                    async throws -> Void) async throws {
        try await ReclusterTests.withDataset(engine, settings: ReclusterTests.strict) { store, clustering in
            try await ReclusterTests.insertGroups(store)
            _ = try await clustering.cluster(dataset: ReclusterTests.dataset)
            let groups = try await ReclusterTests.people(store)
            let id = { (group: String) in try #require(groups.first { $0.value == [group] }?.key) }
            try await body(store, clustering, FigureClusterStore(store: store), try id("a"), try id("b"), try id("c"))
        }
    }

    @Test("undoing each kind of edit brings back the people as they were", arguments: TestEngine.available)
    func everyKindUndone(engine: TestEngine) async throws {
        try await Self.withThreePeople(engine) { store, clustering, people, a, b, c in
            let dataset = ReclusterTests.dataset
            try await people.exclude(dataset: dataset, figureID: "c4")
            let before = try await Self.state(store)

            func undone(_ kind: PeopleEdit.Kind, _ edit: () async throws -> Void) async throws {
                try await edit()
                #expect(try await Self.state(store) != before, "\(kind) changed nothing")
                #expect(try await people.undo(dataset: dataset).edit.kind == kind)
                var after = try await Self.state(store)
                if kind == .recluster {
                    // Its record does not say which "not this person" it handed on to the people
                    // it merged into, so those stay; all that was said before holds again.
                    #expect(Set(before).isSubset(of: after))
                    after.removeAll { $0.hasPrefix("said ") && !before.contains($0) }
                }
                #expect(after == before, "undoing \(kind): \(after.filter { !before.contains($0) }) instead of \(before.filter { !after.contains($0) })")
            }
            try await undone(.rename) {
                try await people.update(dataset: dataset, id: a, ClusterChanges(name: "Ann", customLabels: ["role": "aunt"], coverFigureID: "a2"))
            }
            try await undone(.merge) { _ = try await people.merge(dataset: dataset, into: b, from: [a]) }
            try await undone(.split) { _ = try await people.split(dataset: dataset, cluster: c, figureIDs: ["c0", "c1"]) }
            try await undone(.move) { try await people.move(dataset: dataset, figureID: "a0", to: b) }
            try await undone(.move) { try await people.move(dataset: dataset, figureID: "a0", to: nil) }
            try await undone(.move) { try await people.confirm(dataset: dataset, figureID: "b1") }
            try await undone(.exclude) { try await people.exclude(dataset: dataset, figureID: "a1") }
            try await undone(.differentPeople) { try await people.distinguish(dataset: dataset, person: a, from: c) }
            try await undone(.apartFaces) { try await people.separate(dataset: dataset, figureID: "a0", from: "c0") }
            try await undone(.recluster) {
                _ = try await clustering.recluster(dataset: dataset, settings: ReclusterTests.loose, apply: true)
            }
        }
    }

    @Test("a merge keeps the name of a named person merged into an unnamed one; undo takes it back", arguments: TestEngine.available)
    func mergeKeepsName(engine: TestEngine) async throws {
        try await Self.withThreePeople(engine) { store, clustering, people, a, b, c in
            let dataset = ReclusterTests.dataset
            try await people.update(dataset: dataset, id: a, ClusterChanges(name: "Ann"))
            try await people.update(dataset: dataset, id: c, ClusterChanges(name: "Cy"))
            let before = try await Self.state(store)

            _ = try await people.merge(dataset: dataset, into: b, from: [a])
            #expect(try await people.cluster(dataset: dataset, id: b).name == "Ann")
            #expect(try await people.undo(dataset: dataset).edit.kind == .merge)
            #expect(try await Self.state(store) == before)
            #expect(try await people.cluster(dataset: dataset, id: b).name == "")

            // A named person keeps its own name when another named one joins it.
            _ = try await people.merge(dataset: dataset, into: c, from: [a])
            #expect(try await people.cluster(dataset: dataset, id: c).name == "Cy")
        }
    }
}
