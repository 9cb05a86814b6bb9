import Foundation
import Logging
import ServiceLifecycle
import VisageCore

/// Lets a running task report progress; each report also renews the lease.
public struct TaskProgress: Sendable {
    let queue: TaskQueue
    let id: String
    let owner: String

    /// Records progress in [0, 1]. Throws `CancellationError` if the lease was lost.
    public func report(_ fraction: Double) async throws {
        guard try await queue.heartbeat(id: id, owner: owner, progress: fraction) else { throw CancellationError() }
    }
}

/// Runs tasks of one queue with a fixed number of concurrent workers. On graceful shutdown it
/// stops leasing, cancels the tasks in flight and hands their leases back, so another process
/// (or the next start) picks them up at once instead of waiting for the lease to expire.
public struct WorkerPool: Service {
    public typealias Handler = @Sendable (QueuedTask, TaskProgress) async throws -> String?

    let queue: TaskQueue
    let queueName: String
    let concurrency: Int
    let pollInterval: Duration
    let handler: Handler
    let logger: Logger
    let ownerPrefix = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(Identifiers.opaque().prefix(6))"

    public init(queue: TaskQueue, queueName: String, concurrency: Int, pollInterval: Duration = .milliseconds(500),
                logger: Logger, handler: @escaping Handler) {
        self.queue = queue
        self.queueName = queueName
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.handler = handler
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<concurrency {
                    group.addTask { await workLoop(owner: "\(ownerPrefix)-\(index)") }
                }
            }
        }
    }

    private func workLoop(owner: String) async {
        var lastSweep = ContinuousClock.now
        while !Task.isCancelled {
            do {
                // Once per lease period is enough to notice tasks abandoned on their last attempt.
                if ContinuousClock.now - lastSweep > .milliseconds(queue.leaseMillis) {
                    try await queue.failAbandoned(queue: queueName)
                    lastSweep = .now
                }
                guard let task = try await queue.lease(queue: queueName, owner: owner) else {
                    try await Task.sleep(for: pollInterval)
                    continue
                }
                await perform(task, owner: owner)
            } catch is CancellationError {
                return
            } catch {
                logger.error("task queue unavailable", metadata: ["queue": "\(queueName)", "error": "\(error)"])
                try? await Task.sleep(for: pollInterval * 4)
            }
        }
    }

    private func perform(_ task: QueuedTask, owner: String) async {
        let progress = TaskProgress(queue: queue, id: task.id, owner: owner)
        let heartbeatEvery = Duration.milliseconds(queue.leaseMillis / 3)
        let started = ContinuousClock.now
        do {
            let result = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    // Keeps the lease while the handler works, also if it never reports progress.
                    while true {
                        try await Task.sleep(for: heartbeatEvery)
                        guard try await queue.heartbeat(id: task.id, owner: owner) else { throw CancellationError() }
                    }
                }
                group.addTask { try await handler(task, progress) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    return next
                }
                return nil
            }
            try await queue.complete(id: task.id, owner: owner, result: result)
            TaskTimings.process.record(queue: queueName, outcome: "succeeded", duration: ContinuousClock.now - started)
        } catch where Task.isCancelled {
            // Shutting down: give the task back. This task is cancelled, so the release runs in
            // one that is not, or the store would refuse to start the query.
            let queue = self.queue
            _ = await Task.detached { try? await queue.release(id: task.id, owner: owner) }.value
            logger.info("released task on shutdown", metadata: ["task": "\(task.id)"])
        } catch {
            logger.warning("task attempt failed", metadata: ["task": "\(task.id)", "error": "\(error)"])
            _ = try? await queue.fail(id: task.id, owner: owner, error: "\(error)")
            TaskTimings.process.record(queue: queueName, outcome: "failed", duration: ContinuousClock.now - started)
        }
    }
}
