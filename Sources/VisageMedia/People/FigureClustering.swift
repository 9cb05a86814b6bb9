import Foundation
import Logging
import SQLKit
import VisageCore
import VisageJobs
import VisageStore

/// What a clustering run changed.
public struct ClusteringOutcome: Sendable, Equatable {
    public var newClusterIDs: [String] = []
    public var updatedClusterIDs: [String] = []
    /// Faces that joined a person.
    public var updatedFigureCount = 0
    /// Faces that still wait for a person.
    public var waitingFigureCount = 0
}

/// Grouping a dataset's faces into people, incrementally: faces already in a person stay there;
/// faces waiting for a person (new, or placed nowhere before) join an existing person or found
/// new ones (`FaceClusterer`). Runs of one dataset are serialized by the single clustering
/// worker; each run's result is written in one transaction.
public struct FigureClustering: Sendable {
    public static let queueName = "media.cluster"

    /// The kinds of task the clustering worker runs, as a task's type records them.
    public enum Kind: String, Sendable, CaseIterable {
        case clustering = "FaceClustering"
        case merging = "FigureClustersMerging"
        /// Visage's own re-clustering from scratch (no IMM call starts one).
        case reclustering = "FigureReclustering"
    }

    let store: MetadataStore
    let datasets: DatasetCatalog
    let clusters: FigureClusterStore
    let tasks: MediaTaskStore
    let queue: TaskQueue
    let outbox: NotificationOutbox
    let events: any TaskEventFormat
    /// Where the per-dataset vector indexes are saved.
    let vectorsDirectory: URL
    public let settings: ClusterSettings

    public init(store: MetadataStore, queue: TaskQueue, outbox: NotificationOutbox, events: any TaskEventFormat, vectorsDirectory: URL,
                settings: ClusterSettings = .fromEnvironment()) {
        self.store = store
        self.datasets = DatasetCatalog(store: store)
        self.clusters = FigureClusterStore(store: store)
        self.tasks = MediaTaskStore(store: store)
        self.queue = queue
        self.outbox = outbox
        self.events = events
        self.vectorsDirectory = vectorsDirectory
        self.settings = settings
    }

    // MARK: The run

    /// Clusters the waiting faces of a dataset and writes the result. A person holding two
    /// faces a user has since said are two people is split first (`PeopleSeparation`).
    public func cluster(dataset: DatasetKey, progress: @Sendable (Double) async -> Void = { _ in }) async throws -> ClusteringOutcome {
        // An edit or a re-clustering written while the run worked makes it start again.
        for _ in 1..<3 {
            if let outcome = try await clusterOnce(dataset: dataset, progress: progress) { return outcome }
        }
        guard let outcome = try await clusterOnce(dataset: dataset, progress: progress) else {
            throw VisageError.conflict(kind: .clusteringRun, name: dataset.dataset,
                                       message: "the people of \(dataset.dataset) kept changing during the run; run it again")
        }
        return outcome
    }

    /// One clustering run; nil when the faces changed before its result could be written.
    private func clusterOnce(dataset: DatasetKey, progress: @Sendable (Double) async -> Void) async throws -> ClusteringOutcome? {
        let snapshot = try await FaceSnapshot.read(dataset: dataset, store: store)
        await progress(0.1)
        var plan = PeoplePlan()
        var persons = snapshot.clusters
        // Split-off parts take part in the placing under stand-in names (a control character
        // keeps them apart from every person id), made people when the plan is written.
        var standIns: [String: Int] = [:]
        let members = Dictionary(grouping: persons.indices.filter { persons[$0] != nil }) { persons[$0]! }
        let separation = PeopleSeparation(embeddings: snapshot.embeddings, dimension: snapshot.dimension)
        let people = members.keys.sorted()
        let conflict = PeopleSeparation.conflicts(snapshot, owners: snapshot.clusters)
        for (person, parts) in zip(people, separation.separate(people.map { members[$0]! }, conflict: conflict)) {
            for part in parts.dropFirst() {
                plan.created.append(PeoplePlan.NewPerson(exclusionsFrom: [person], splitFrom: person))
                let index = plan.created.count - 1
                let name = "\u{1}part-\(index)"
                standIns[name] = index
                for face in part {
                    persons[face] = name
                    plan.targets[face] = .created(index)
                }
            }
        }
        let waiting = persons.indices.filter { persons[$0] == nil }
        if !waiting.isEmpty {
            let placement = try await place(snapshot, persons: persons, settings: settings, range: 0.1...0.8, progress: progress)
            var newPeople: [Int: Int] = [:]
            for face in waiting {
                switch placement[face] {
                case let .existing(id)?: plan.targets[face] = standIns[id].map { .created($0) } ?? .person(id)
                case let .new(group)?:
                    if newPeople[group] == nil {
                        newPeople[group] = plan.created.count
                        plan.created.append(PeoplePlan.NewPerson())
                    }
                    plan.targets[face] = .created(newPeople[group]!)
                case nil:
                    // Already waiting since an earlier run: nothing to write.
                    if snapshot.neverPlaced[face] { plan.targets[face] = .waiting }
                }
            }
        }
        await progress(0.8)
        var outcome = ClusteringOutcome()
        outcome.waitingFigureCount = waiting.filter { plan.targets[$0] == nil || plan.targets[$0] == .waiting }.count
        outcome.updatedFigureCount = waiting.count - outcome.waitingFigureCount
        guard !plan.isEmpty else { return outcome }
        let written = try await store.withTransaction { [clusters, plan] db -> (created: [String], updated: [String])? in
            guard try await snapshot.unchanged(dataset: dataset, db: db) else { return nil }
            return try await clusters.apply(plan, snapshot: snapshot, dataset: dataset, db: db, now: WallClock.nowMillis())
        }
        guard let written else { return nil }
        outcome.newClusterIDs = written.created
        outcome.updatedClusterIDs = written.updated
        await progress(1)
        return outcome
    }

    /// Places the waiting faces (`persons` nil) with the neighbour index of the dataset, saved
    /// beside the data and rebuilt when missing.
    func place(_ snapshot: FaceSnapshot, persons: [String?], settings: ClusterSettings,
               progress: (Double) -> Void = { _ in }) throws -> [Int: ClusterPlacement] {
        try FileManager.default.createDirectory(at: vectorsDirectory, withIntermediateDirectories: true)
        let file = FaceVectors.file(in: vectorsDirectory, dataset: snapshot.dataset)
        let width = snapshot.dimension
        let ids = snapshot.figureIDs.indices.map { face in
            FaceVectors.vectorID(snapshot.figureIDs[face], embedding: snapshot.embeddings[face * width..<(face + 1) * width])
        }
        let vectors = try FaceVectors.open(file: file, ids: ids,
                                           embeddings: snapshot.embeddings, dimension: snapshot.dimension)
        let k = settings.neighbours
        var clusterer = FaceClusterer(settings: settings, faces: snapshot.clusterFaces(persons: persons),
                                      embeddings: snapshot.embeddings, dimension: snapshot.dimension) { positions in
            try vectors.neighbours(of: positions, k: k)
        }
        let placement = try clusterer.place(progress: progress)
        if vectors.changed { try vectors.index.write(to: file) }
        return placement
    }

    /// `place`, with the progress the clusterer reports from its synchronous work passed on
    /// to `progress` as it comes, mapped into `range`.
    func place(_ snapshot: FaceSnapshot, persons: [String?], settings: ClusterSettings, range: ClosedRange<Double>,
               progress: @Sendable (Double) async -> Void) async throws -> [Int: ClusterPlacement] {
        let (fractions, reporter) = AsyncStream.makeStream(of: Double.self, bufferingPolicy: .bufferingNewest(1))
        return try await withoutActuallyEscaping(progress) { progress in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await fraction in fractions { await progress(range.lowerBound + fraction * (range.upperBound - range.lowerBound)) }
                }
                defer { reporter.finish() }
                // The clustering itself is long CPU work: off the cooperative threads.
                return try await Blocking.run {
                    try place(snapshot, persons: persons, settings: settings) { reporter.yield($0) }
                }
            }
        }
    }

    // MARK: Tasks

    /// A clustering or merging request with the request's own facts for the task record.
    public struct Submission: Sendable {
        public let account: String
        public let project: String
        public let dataset: String
        public let kind: Kind
        /// Starts the task's id (the name of the call that asked for it, say).
        public let idPrefix: String
        public let notification: NotificationTarget?
        public let userData: String
        public let tags: String
        public let requestID: String
        /// The request's parameters as JSON (a merge reads its `To`/`From`/`Froms` back from here).
        public let requestDefinition: String

        public init(account: String, project: String, dataset: String, kind: Kind, idPrefix: String, notification: NotificationTarget?,
                    userData: String, tags: String, requestID: String, requestDefinition: String) {
            self.account = account
            self.project = project
            self.dataset = dataset
            self.kind = kind
            self.idPrefix = idPrefix
            self.notification = notification
            self.userData = userData
            self.tags = tags
            self.requestID = requestID
            self.requestDefinition = requestDefinition
        }
    }

    /// Records a clustering, merging or re-clustering task and queues it, in one transaction.
    public func submit(_ submission: Submission) async throws -> MediaTask {
        let notification = try await MediaTaskRequest.check(
            account: submission.account, project: submission.project, dataset: submission.dataset, userData: submission.userData,
            notification: submission.notification, datasets: datasets)
        let eventID = Identifiers.eventID()
        let task = MediaTask(
            id: "\(submission.idPrefix)-\(UUID().uuidString.lowercased())", accountID: submission.account, project: submission.project,
            dataset: submission.dataset, type: submission.kind.rawValue, eventID: eventID, status: .running, code: "", message: "",
            progress: 0, userData: submission.userData, tags: submission.tags, notification: notification,
            requestDefinition: submission.requestDefinition, requestID: submission.requestID, started: Date(), ended: nil)
        try await store.withTransaction { [tasks, queue] db in
            try await tasks.insert(task, files: [], db: db)
            try await queue.enqueue(queue: Self.queueName, payload: task.id, maxAttempts: 5, db: db)
        }
        return task
    }

    /// Runs one queued clustering, merging or re-clustering task and ends it with its notification.
    public func run(_ job: QueuedTask, progress: TaskProgress) async throws -> String? {
        guard let task = try await tasks.task(id: job.payload), task.status == .running else { return "already ended" }
        let dataset = DatasetKey(accountID: task.accountID, project: task.project, dataset: task.dataset)
        let report: @Sendable (Double) async -> Void = { [tasks] fraction in
            try? await progress.report(fraction)
            try? await tasks.setProgress(taskID: task.id, percent: Int(fraction * 99))
        }
        var outcome = TaskReport.Outcome.peopleClustered(nil)
        var result = ""
        var failure: VisageError?
        do {
            _ = try await datasets.dataset(account: task.accountID, project: task.project, name: task.dataset)
            guard let kind = Kind(rawValue: task.type) else {
                throw VisageError.internalFailure(message: "the clustering worker does not run \(task.type) tasks")
            }
            switch kind {
            case .merging:
                let (target, sources) = try Self.mergeRequest(task.requestDefinition)
                let moved = try await clusters.merge(dataset: dataset, into: target, from: sources)
                outcome = .peopleMerged(into: target, from: sources, movedFaces: moved)
            case .reclustering:
                outcome = .reclustered
                result = try await runRecluster(task, dataset: dataset, progress: report)
            case .clustering:
                outcome = .peopleClustered(try await cluster(dataset: dataset, progress: report))
            }
        } catch {
            guard let reason = job.failure(for: error, doing: "the task") else { throw error }
            failure = reason
        }
        try await TaskReport(task: task, ended: WallClock.nowMillis(), failure: failure, message: failure.map(\.description) ?? "",
                             outcome: outcome).finish(store: store, tasks: tasks, outbox: outbox, events: events, result: result)
        return failure == nil ? "done" : "failed"
    }

    /// The `To` and `From`/`Froms` of a merging request.
    static func mergeRequest(_ definition: String) throws -> (String, [String]) {
        let request = JSONValue(parsing: definition)?.objectValue ?? [:]
        guard let target = request["To"]?.stringValue else { throw VisageError.invalidArgument(field: "To", message: "is required") }
        var sources: [String] = []
        if let one = request["From"]?.stringValue { sources.append(one) }
        if let many = request["Froms"]?.stringValue.flatMap(JSONValue.init(parsing:))?.arrayValue {
            sources += many.compactMap(\.stringValue)
        }
        return (target, sources)
    }

    /// The single worker that runs clustering and merging tasks (one at a time, so two runs
    /// of a dataset never interleave).
    public func workers(logger: Logger) -> WorkerPool {
        WorkerPool(queue: queue, queueName: Self.queueName, concurrency: 1, pollInterval: .milliseconds(200), logger: logger) { job, progress in
            try await run(job, progress: progress)
        }
    }
}
