import Foundation
import Logging
import SQLKit
import Testing
import VisageCore
import VisageJobs
import VisageStore
import VisageTestSupport
@testable import VisageMedia

@Suite("Re-clustering")
struct ReclusterTests {
    static let dataset = DatasetKey(accountID: "100", project: "p", dataset: "d")

    /// A fresh store holding project `p` with dataset `d`, and a clustering over it.
    static func withDataset(_ engine: TestEngine, settings: ClusterSettings = ClusterSettings(),
                            _ body: (MetadataStore, FigureClustering) async throws -> Void) async throws {
        try await engine.withFreshStore { store, directory in
            try await store.withConnection { db in
                try await db.raw("INSERT INTO accounts (id, name, created_at) VALUES ('100', 'test', 0)").run()
            }
            _ = try await ProjectCatalog(store: store).create(account: "100", name: "p", description: nil, serviceRole: nil,
                                                              templateID: nil)
            _ = try await DatasetCatalog(store: store).create(account: "100", project: "p", name: "d", changes: DatasetChanges())
            let clustering = FigureClustering(
                store: store, queue: TaskQueue(store: store, backoffBase: .milliseconds(1)),
                outbox: NotificationOutbox(store: store, settings: NotificationSettings()), events: VisageTaskEvents(),
                vectorsDirectory: directory.appendingPathComponent("vectors"), settings: settings)
            try await body(store, clustering)
        }
    }

    /// Tight groups in 8 dimensions, each face in its own photo (by default a of 3 faces near c
    /// of 5, b of 4 a little further). Face ids are their group's letter and a number.
    static func insertGroups(_ store: MetadataStore, centres: [String: [Float]] = ["a": [0, 0], "c": [0.15, 0], "b": [0, 0.3]],
                             counts: [String: Int] = ["a": 3, "c": 5, "b": 4]) async throws {
        try await store.withConnection { db in
            for (group, count) in counts {
                for index in 0..<count {
                    var vector = centres[group]! + [Float](repeating: 0, count: 6)
                    vector[2 + index % 6] = 0.02
                    try await db.raw("""
                        INSERT INTO media_faces (figure_id, dataset_key, file_id, embedding, quality_ok, quality)
                        VALUES (\(bind: "\(group)\(index)"), \(bind: dataset.description), \(bind: "file-\(group)\(index)"),
                                \(bind: vector.withUnsafeBufferPointer { Data(buffer: $0) }), 1, 0.9)
                        """).run()
                }
            }
        }
    }

    /// Each person, with the groups its faces come from.
    static func people(_ store: MetadataStore) async throws -> [String: Set<String>] {
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT figure_id, cluster_id FROM media_faces WHERE cluster_id LIKE 'Cluster-%'").all()
        }
        var held: [String: Set<String>] = [:]
        for row in rows {
            held[try row.decode(column: "cluster_id", as: String.self), default: []]
                .insert(String(try row.decode(column: "figure_id", as: String.self).prefix(1)))
        }
        return held
    }

    static var strict: ClusterSettings {
        var settings = ClusterSettings()
        settings.threshold = 0.1
        settings.attachThreshold = 0.1
        return settings
    }

    static var loose: ClusterSettings {
        var settings = ClusterSettings()
        settings.threshold = 0.5
        settings.attachThreshold = 0.5
        return settings
    }

    @Test("a task that keeps failing ends Failed after its last attempt, not Running for ever", arguments: TestEngine.available)
    func failsForGood(engine: TestEngine) async throws {
        try await Self.withDataset(engine) { store, clustering in
            let dataset = Self.dataset
            let task = try await clustering.submitRecluster(dataset: dataset, settings: ClusterSettings(), apply: false)
            #expect(try await clustering.reclusterTask(dataset: dataset, id: task.id).task.status == .running)
            // A request the worker cannot read fails every attempt with an error of no domain kind.
            try await store.withConnection { db in
                try await db.raw("UPDATE media_tasks SET request_definition = 'not json' WHERE id = \(bind: task.id)").run()
            }
            let ended = try await withThrowingTaskGroup(of: ReclusterTask?.self) { group in
                group.addTask {
                    try await clustering.workers(logger: Logger(label: "test")).run()
                    return nil
                }
                group.addTask {
                    let deadline = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < deadline {
                        let found = try await clustering.reclusterTask(dataset: dataset, id: task.id)
                        if found.task.status != .running { return found }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            let found = try #require(ended)
            #expect(found.task.status == .failed && found.preview == nil)
            #expect(found.task.message.contains("the task failed on every attempt (5)"))
            // Another dataset's scope does not find it.
            await #expect(throws: VisageError.self) {
                try await clustering.reclusterTask(dataset: DatasetKey(accountID: "100", project: "p", dataset: "other"), id: task.id)
            }
        }
    }

    @Test("a person a re-clustering merges away hands its \"these two are different\" on", arguments: TestEngine.available)
    func differencesTakeOver(engine: TestEngine) async throws {
        // A strict threshold keeps the three groups three people.
        try await Self.withDataset(engine, settings: Self.strict) { store, clustering in
            let dataset = Self.dataset
            try await Self.insertGroups(store)
            _ = try await clustering.cluster(dataset: dataset)
            let first = try await Self.people(store)
            #expect(Set(first.values) == [["a"], ["b"], ["c"]])
            let a = try #require(first.first { $0.value == ["a"] }?.key), b = try #require(first.first { $0.value == ["b"] }?.key)
            try await FigureClusterStore(store: store).distinguish(dataset: dataset, person: a, from: b)

            // Loose enough to join everyone but for the statement: a goes into c, and c is now
            // different from b.
            let preview = try await clustering.recluster(dataset: dataset, settings: Self.loose, apply: true)
            #expect(preview.changes.contains { $0.person == a && $0.kind == .merged })
            #expect(Set(try await Self.people(store).values) == [["a", "c"], ["b"]])
            // Again: without the statement handed on, b would join them now.
            _ = try await clustering.recluster(dataset: dataset, settings: Self.loose, apply: true)
            #expect(Set(try await Self.people(store).values) == [["a", "c"], ["b"]])
        }
    }

    @Test("undoing a user's merge brings back the \"these two are different\" it carried over", arguments: TestEngine.available)
    func mergeUndoRestoresDifferences(engine: TestEngine) async throws {
        try await Self.withDataset(engine, settings: Self.strict) { store, clustering in
            let dataset = Self.dataset
            let people = FigureClusterStore(store: store)
            try await Self.insertGroups(store)
            _ = try await clustering.cluster(dataset: dataset)
            let first = try await Self.people(store)
            let id = { (group: String) in try #require(first.first { $0.value == [group] }?.key) }
            let (a, b, c) = (try id("a"), try id("b"), try id("c"))
            func statements() async throws -> Set<[String]> {
                Set(try await store.withConnection { db in try await people.differences(dataset: dataset, about: [a, b, c], db: db) })
            }
            try await people.distinguish(dataset: dataset, person: a, from: c)
            _ = try await people.merge(dataset: dataset, into: b, from: [a])
            // The merged person is now the one different from c.
            #expect(try await statements() == [[min(b, c), max(b, c)]])
            try await people.undo(dataset: dataset)
            #expect(try await statements() == [[min(a, c), max(a, c)]])
            // And a re-clustering loose enough to join everyone keeps a and c apart.
            _ = try await clustering.recluster(dataset: dataset, settings: Self.loose, apply: true)
            #expect(!(try await Self.people(store).values.contains { $0.isSuperset(of: ["a", "c"]) }))
        }
    }

    @Test("undoing \"these two are different\" for two faces joins the parts a run split apart for it", arguments: TestEngine.available)
    func undoDifferentRejoins(engine: TestEngine) async throws {
        try await Self.withDataset(engine, settings: Self.loose) { store, clustering in
            let dataset = Self.dataset
            let people = FigureClusterStore(store: store)
            // One person of two close halves: l0-l2 and r0-r2.
            try await Self.insertGroups(store, centres: ["l": [0, 0], "r": [0.12, 0]], counts: ["l": 3, "r": 3])
            _ = try await clustering.cluster(dataset: dataset)
            let whole = try #require(try await Self.people(store).first { $0.value == ["l", "r"] }?.key)
            try await people.separate(dataset: dataset, figureID: "l0", from: "r2")
            _ = try await clustering.cluster(dataset: dataset)
            let halves = try await Self.people(store)
            #expect(Set(halves.values) == [["l"], ["r"]] && halves[whole] != nil)
            let part = try #require(halves.keys.first { $0 != whole })
            try await people.update(dataset: dataset, id: part, ClusterChanges(name: "Ko"))
            try await people.undo(dataset: dataset, sequence: 1)   // the statement, before the rename
            #expect(try await Self.people(store) == [whole: ["l", "r"]])
            #expect(try await people.cluster(dataset: dataset, id: whole).name == "Ko")
            _ = try await clustering.cluster(dataset: dataset)
            #expect(try await Self.people(store) == [whole: ["l", "r"]])

            // With a second statement still holding, undoing one leaves the halves apart.
            try await people.separate(dataset: dataset, figureID: "l0", from: "r2")
            try await people.separate(dataset: dataset, figureID: "l1", from: "r1")
            _ = try await clustering.cluster(dataset: dataset)
            #expect(Set(try await Self.people(store).values) == [["l"], ["r"]])
            try await people.undo(dataset: dataset)
            #expect(Set(try await Self.people(store).values) == [["l"], ["r"]])
            try await people.undo(dataset: dataset)
            #expect(Set(try await Self.people(store).values) == [["l", "r"]])
        }
    }
}
