import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import VisageCore
import VisageJobs
import VisageStore
import VisageTestSupport

/// Time that moves only when a test says so.
final class ManualClock: Sendable {
    private let millis = Mutex<Int64>(1_800_000_000_000)
    var read: @Sendable () -> Int64 { { self.millis.withLock { $0 } } }
    func advance(_ duration: Duration) { millis.withLock { $0 += Int64(duration.components.seconds * 1000) + duration.components.attoseconds / 1_000_000_000_000_000 } }
}

@Suite("Durable task queue")
struct TaskQueueTests {
    @Test("lease, progress, complete", arguments: TestEngine.available)
    func happyPath(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let queue = TaskQueue(store: store)
            let id = try await queue.enqueue(queue: "index", payload: #"{"file":"a.jpg"}"#)
            #expect(try await queue.lease(queue: "other", owner: "w1") == nil)
            let task = try #require(try await queue.lease(queue: "index", owner: "w1"))
            #expect(task.id == id && task.status == .running && task.attempts == 1 && task.payload == #"{"file":"a.jpg"}"#)
            #expect(try await queue.lease(queue: "index", owner: "w2") == nil)
            #expect(try await queue.heartbeat(id: id, owner: "w1", progress: 0.5))
            #expect(try await !queue.heartbeat(id: id, owner: "w2", progress: 0.9))
            #expect(try await queue.task(id: id)?.progress == 0.5)
            #expect(try await queue.complete(id: id, owner: "w1", result: "ok"))
            let done = try #require(try await queue.task(id: id))
            #expect(done.status == .succeeded && done.progress == 1 && done.result == "ok" && done.leaseOwner == nil)
        }
    }

    @Test("failures back off, then fail for good after the last attempt", arguments: TestEngine.available)
    func retries(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let clock = ManualClock()
            let queue = TaskQueue(store: store, backoffBase: .seconds(2), clock: clock.read)
            let id = try await queue.enqueue(queue: "q", payload: "p", maxAttempts: 2)
            _ = try #require(try await queue.lease(queue: "q", owner: "w"))
            #expect(try await queue.fail(id: id, owner: "w", error: "boom"))
            let waiting = try #require(try await queue.task(id: id))
            #expect(waiting.status == .queued && waiting.lastError == "boom")
            clock.advance(.milliseconds(1900))
            #expect(try await queue.lease(queue: "q", owner: "w") == nil)  // still backing off
            clock.advance(.milliseconds(200))
            let second = try #require(try await queue.lease(queue: "q", owner: "w"))
            #expect(second.attempts == 2)
            #expect(try await queue.fail(id: id, owner: "w", error: "boom again"))
            let failed = try #require(try await queue.task(id: id))
            #expect(failed.status == .failed && failed.lastError == "boom again")
            #expect(try await queue.lease(queue: "q", owner: "w") == nil)
        }
    }

    @Test("a task whose worker died is leased again when the lease runs out", arguments: TestEngine.available)
    func expiredLease(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let clock = ManualClock()
            let queue = TaskQueue(store: store, lease: .seconds(60), clock: clock.read)
            let id = try await queue.enqueue(queue: "q", payload: "p")
            _ = try #require(try await queue.lease(queue: "q", owner: "dead"))
            clock.advance(.seconds(59))
            #expect(try await queue.lease(queue: "q", owner: "alive") == nil)
            clock.advance(.seconds(2))
            let again = try #require(try await queue.lease(queue: "q", owner: "alive"))
            #expect(again.id == id && again.attempts == 2 && again.leaseOwner == "alive")
            #expect(try await !queue.complete(id: id, owner: "dead"))
            #expect(try await queue.complete(id: id, owner: "alive"))
        }
    }

    @Test("a task abandoned on its last attempt fails for good", arguments: TestEngine.available)
    func abandoned(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let clock = ManualClock()
            let queue = TaskQueue(store: store, lease: .seconds(60), clock: clock.read)
            let id = try await queue.enqueue(queue: "q", payload: "p", maxAttempts: 1)
            _ = try #require(try await queue.lease(queue: "q", owner: "dead"))
            clock.advance(.seconds(61))
            #expect(try await queue.lease(queue: "q", owner: "alive") == nil)
            try await queue.failAbandoned(queue: "q")
            let failed = try #require(try await queue.task(id: id))
            #expect(failed.status == .failed && failed.lastError == "the worker stopped responding" && failed.leaseOwner == nil)
        }
    }

    @Test("release hands a task back without counting the attempt", arguments: TestEngine.available)
    func release(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let queue = TaskQueue(store: store)
            let id = try await queue.enqueue(queue: "q", payload: "p")
            _ = try #require(try await queue.lease(queue: "q", owner: "w"))
            #expect(try await queue.release(id: id, owner: "w"))
            let task = try #require(try await queue.task(id: id))
            #expect(task.status == .queued && task.attempts == 0)
        }
    }

    @Test("a worker pool runs every task once; on shutdown it releases the work in flight",
          arguments: TestEngine.available)
    func workerPool(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let queue = TaskQueue(store: store)
            var ids: [String] = []
            for index in 0..<6 { ids.append(try await queue.enqueue(queue: "work", payload: "\(index)")) }
            let slow = try await queue.enqueue(queue: "slow", payload: "never finishes")
            let runs = Mutex<[String: Int]>([:])
            let logger = Logger(label: "test")
            let fast = WorkerPool(queue: queue, queueName: "work", concurrency: 2, pollInterval: .milliseconds(20),
                                  logger: logger) { task, progress in
                try await progress.report(0.5)
                runs.withLock { $0[task.payload, default: 0] += 1 }
                return "done \(task.payload)"
            }
            let started = Mutex(false)
            let stuck = WorkerPool(queue: queue, queueName: "slow", concurrency: 1, pollInterval: .milliseconds(20),
                                   logger: logger) { _, _ in
                started.withLock { $0 = true }
                try await Task.sleep(for: .seconds(3600))
                return nil
            }
            let group = ServiceGroup(services: [fast, stuck], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    let finished = try await ids.asyncAllSatisfy { try await queue.task(id: $0)?.status == .succeeded }
                    if finished && started.withLock({ $0 }) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(runs.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<6).map { ("\($0)", 1) }))
            for id in ids { #expect(try await queue.task(id: id)?.result?.hasPrefix("done") == true) }
            let released = try #require(try await queue.task(id: slow))
            #expect(released.status == .queued && released.leaseOwner == nil && released.attempts == 0,
                    "\(released)")
        }
    }
}

extension Array where Element: Sendable {
    func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}

@Suite("Notification outbox")
struct NotificationOutboxTests {
    @Test("a failing webhook is tried 16 times over about nine hours, then kept as failed", arguments: TestEngine.available)
    func retrySchedule(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let clock = ManualClock()
            let outbox = NotificationOutbox(store: store, settings: NotificationSettings(), clock: clock.read)
            let target = NotificationTarget(url: "https://example.com/hook", name: "HTTP")
            try await store.withTransaction { db in
                try await outbox.enqueue(eventID: "E-1", type: "imm:FileMeta:Index", body: "{}", to: target, db: db)
            }
            let queue = outbox.deliveries
            var attempts = 0
            var waited: Duration = .zero
            while let task = try await queue.lease(queue: NotificationOutbox.queueName, owner: "w") {
                attempts += 1
                try await queue.fail(id: task.id, owner: "w", error: "HTTP 500")
                let next = try #require(try await queue.task(id: task.id))
                guard next.status == .queued else { break }
                let delay = Duration.milliseconds(Int64(next.runAfter.timeIntervalSince1970 * 1000) - clock.read())
                #expect(try await queue.lease(queue: NotificationOutbox.queueName, owner: "w") == nil)  // not before its time
                clock.advance(delay)
                waited += delay
            }
            #expect(attempts == 16)
            #expect(waited >= .seconds(8 * 3600) && waited <= .seconds(10 * 3600))
            let record = try #require(try await outbox.events().first)
            #expect(record.status == .failed && record.attempts == 16 && record.lastError == "HTTP 500")
        }
    }

    @Test("webhook targets must be http(s) on public addresses; topics map to configured webhooks")
    func targets() async throws {
        try await TestEngine.sqlite.withFreshStore { store, _ in
            let settings = NotificationSettings(topics: ["t1": "https://example.com/t1"])
            let outbox = NotificationOutbox(store: store, settings: settings)
            #expect(outbox.topic("t1", kind: "MNS").url == "https://example.com/t1")
            let unmapped = outbox.topic("other", kind: "RocketMQ")
            #expect(unmapped.url == nil && unmapped.name == "RocketMQ topic other")
            for bad in ["ftp://x", "http://127.0.0.1/h", "http://[::1]/h", "http://169.254.169.254/latest", "not a url"] {
                await #expect(throws: VisageError.self, "\(bad)") { try await outbox.webhook(bad, field: "Endpoint") }
            }
        }
    }
}
