import Foundation
import Logging
import SQLKit
import VisageCore
import VisageJobs
import VisageStore

/// Indexing files into datasets as durable tasks: a request records the task, its files and a
/// queue entry in one transaction; workers index the files one by one, each file's metadata
/// written in the same transaction that marks it done, so a worker killed mid-batch leaves the
/// rest to the next lease and no file is indexed twice. The task's end and its notification
/// are written together too.
public struct MediaIndexing: Sendable {
    public static let queueName = "media.index"
    let store: MetadataStore
    let projects: ProjectCatalog
    let datasets: DatasetCatalog
    let index: FileIndex
    let indexer: FileIndexer
    let tasks: MediaTaskStore
    let queue: TaskQueue
    let outbox: NotificationOutbox
    let events: any TaskEventFormat

    public init(store: MetadataStore, indexer: FileIndexer, queue: TaskQueue, outbox: NotificationOutbox, events: any TaskEventFormat) {
        self.store = store
        self.projects = ProjectCatalog(store: store)
        self.datasets = DatasetCatalog(store: store)
        self.index = FileIndex(store: store)
        self.indexer = indexer
        self.tasks = MediaTaskStore(store: store)
        self.queue = queue
        self.outbox = outbox
        self.events = events
    }

    /// What a caller asks to index, with the request's own facts for the task record.
    public struct Submission: Sendable {
        public let account: String
        public let project: String
        public let dataset: String
        public let files: [InputFile]
        public let notification: NotificationTarget?
        public let userData: String
        public let requestID: String
        public let requestDefinition: String
        public let type: String

        public init(account: String, project: String, dataset: String, files: [InputFile], notification: NotificationTarget?,
                    userData: String, requestID: String, requestDefinition: String, type: String) {
            self.account = account
            self.project = project
            self.dataset = dataset
            self.files = files
            self.notification = notification
            self.userData = userData
            self.requestID = requestID
            self.requestDefinition = requestDefinition
            self.type = type
        }
    }

    /// Records an indexing task and queues it; the task's id is its event id.
    public func submit(_ submission: Submission) async throws -> MediaTask {
        let notification = try await MediaTaskRequest.check(
            account: submission.account, project: submission.project, dataset: submission.dataset, userData: submission.userData,
            notification: submission.notification, datasets: datasets)
        return try await store.withTransaction { db in try await submit(submission, notification: notification, db: db) }
    }

    /// Records and queues a task in the caller's transaction (the caller has checked the dataset).
    func submit(_ submission: Submission, notification: String = "", db: any SQLDatabase) async throws -> MediaTask {
        let eventID = Identifiers.eventID()
        let task = MediaTask(
            id: eventID, accountID: submission.account, project: submission.project, dataset: submission.dataset,
            type: submission.type, eventID: eventID, status: .running, code: "", message: "", progress: 0,
            userData: submission.userData, tags: "{}", notification: notification,
            requestDefinition: submission.requestDefinition, requestID: submission.requestID, started: Date(), ended: nil)
        try await tasks.insert(task, files: submission.files, db: db)
        try await queue.enqueue(queue: Self.queueName, payload: task.id, maxAttempts: 10, db: db)
        return task
    }

    /// Indexes the files of one queued task that are not done yet, then ends the task.
    public func run(_ job: QueuedTask, progress: TaskProgress) async throws -> String? {
        guard let task = try await tasks.task(id: job.payload), task.status == .running else { return "already ended" }
        let files = try await tasks.files(of: task.id)
        let project: MediaProject, dataset: MediaDataset
        do {
            project = try await projects.project(account: task.accountID, name: task.project)
            dataset = try await datasets.dataset(account: task.accountID, project: task.project, name: task.dataset)
        } catch let error as VisageError {
            try await end(task, files: files, failure: error)
            return "failed"
        }
        var finished = files.filter { $0.status != .pending }.count
        for var file in files where file.status == .pending {
            try Task.checkCancellation()
            do {
                let indexed = try await indexer.analyze(file.input, project: project, dataset: dataset)
                file.status = .done
                let done = file
                try await store.withTransaction { [index, tasks] db in
                    try await index.write(indexed, dataset: dataset.key, now: WallClock.nowMillis(), db: db)
                    try await tasks.finish(taskID: task.id, file: done, db: db)
                }
            } catch {
                // A file that cannot be indexed (missing, not an image, not readable) fails and
                // the batch goes on; the store failing ends the attempt for the queue to retry.
                guard let reason = job.failure(for: error, doing: "indexing") else { throw error }
                file.status = .failed
                file.error = events.fileError(reason)
                let failed = file
                try await store.withConnection { [tasks] db in try await tasks.finish(taskID: task.id, file: failed, db: db) }
            }
            finished += 1
            try await progress.report(Double(finished) / Double(max(1, files.count)))
            try await tasks.setProgress(taskID: task.id, percent: finished * 100 / max(1, files.count))
        }
        try await end(task, files: try await tasks.files(of: task.id), failure: nil)
        return "indexed"
    }

    /// Ends the task and queues its notification in one transaction.
    private func end(_ task: MediaTask, files: [MediaTaskFile], failure: VisageError?) async throws {
        let now = WallClock.nowMillis()
        let failedCount = files.filter { $0.status == .failed }.count
        let message = failure.map(events.fileError) ?? (failedCount == 0 ? "" : "\(failedCount) of \(files.count) files failed.")
        let report = TaskReport(task: task, ended: now, failure: failure, message: message, outcome: .filesIndexed(files))
        try await report.finish(store: store, tasks: tasks, outbox: outbox, events: events)
    }

    /// The worker pool that runs indexing tasks.
    public func workers(concurrency: Int, logger: Logger) -> WorkerPool {
        WorkerPool(queue: queue, queueName: Self.queueName, concurrency: concurrency, pollInterval: .milliseconds(200),
                   logger: logger) { job, progress in
            try await run(job, progress: progress)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
