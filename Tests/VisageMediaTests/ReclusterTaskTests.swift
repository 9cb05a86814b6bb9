import Foundation
import Logging
import Testing
import VisageCore
import VisageJobs
import VisageStore
import VisageTestSupport
@testable import VisageMedia

@Suite("Re-clustering tasks")
struct ReclusterTaskTests {
    @Test("a task that keeps failing ends Failed after its last attempt, not Running for ever", arguments: TestEngine.available)
    func failsForGood(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, directory in
            try await store.withConnection { db in
                try await db.raw("INSERT INTO accounts (id, name, created_at) VALUES ('100', 'test', 0)").run()
            }
            _ = try await ProjectCatalog(store: store).create(account: "100", name: "p", description: nil, serviceRole: nil,
                                                              templateID: nil)
            _ = try await DatasetCatalog(store: store).create(account: "100", project: "p", name: "d", changes: DatasetChanges())
            let dataset = DatasetKey(accountID: "100", project: "p", dataset: "d")
            let clustering = FigureClustering(
                store: store, queue: TaskQueue(store: store, backoffBase: .milliseconds(1)),
                outbox: NotificationOutbox(store: store, settings: NotificationSettings()), region: "local",
                vectorsDirectory: directory.appendingPathComponent("vectors"))
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
            #expect(found.task.message.contains("failed 5 times"))
            // Another dataset's scope does not find it.
            await #expect(throws: VisageError.self) {
                try await clustering.reclusterTask(dataset: DatasetKey(accountID: "100", project: "p", dataset: "other"), id: task.id)
            }
        }
    }
}
