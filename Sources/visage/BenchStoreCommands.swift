import ArgumentParser
import Foundation
import Logging
import VisageCore
import VisageJobs
import VisageMedia
import SQLKit
import VisageStore

/// Where a store benchmark keeps its data: a new SQLite file in a temporary folder, or an empty
/// PostgreSQL database named by URL.
struct BenchStoreOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "An empty PostgreSQL database to measure instead of SQLite.")
    var databaseURL: String?

    func withStore<T: Sendable>(_ body: (MetadataStore) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("visage-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let location = try databaseURL.map { try DatabaseLocation(url: $0) }
            ?? .sqlite(path: folder.appendingPathComponent("bench.sqlite").path)
        if case .sqlite = location { print("engine: SQLite (WAL)") } else { print("engine: PostgreSQL") }
        return try await MetadataStore.withStore(at: location, logger: logger) { try await body($0) }
    }

    /// A dataset to write into: account 1, project `bench`, dataset `photos`.
    static func createDataset(in store: MetadataStore) async throws -> DatasetKey {
        try await store.withConnection { db in
            try await db.raw("INSERT INTO accounts (id, name, created_at) VALUES ('1', 'bench', 0)").run()
        }
        _ = try await ProjectCatalog(store: store).create(account: "1", name: "bench", description: nil, serviceRole: nil, templateID: nil)
        _ = try await DatasetCatalog(store: store).create(account: "1", project: "bench", name: "photos", changes: DatasetChanges())
        return DatasetKey(accountID: "1", project: "bench", dataset: "photos")
    }
}

/// Timing helpers shared by the benchmarks.
enum Measure {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }

    /// The value at quantile `q` of sorted durations, in milliseconds.
    static func quantile(_ sorted: [Duration], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return milliseconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))])
    }

    static func residentMegabytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024)
    }
}

/// `visage bench queue`: what the durable queue adds to each task (enqueue, lease, complete).
struct BenchQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Per-task overhead of the durable task queue (enqueue + lease + complete of empty tasks).")

    @OptionGroup var store: BenchStoreOptions
    @Option(help: "Tasks to run.") var tasks = 2000

    func run() async throws {
        try await store.withStore { store in
            let queue = TaskQueue(store: store)
            var enqueue: [Duration] = [], lease: [Duration] = [], complete: [Duration] = []
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<tasks {
                var began = clock.now
                try await queue.enqueue(queue: "bench", payload: "{\"n\":\(index)}")
                enqueue.append(clock.now - began)
                began = clock.now
                guard let task = try await queue.lease(queue: "bench", owner: "bench") else { throw ValidationError("lost a task") }
                lease.append(clock.now - began)
                began = clock.now
                try await queue.complete(id: task.id, owner: "bench")
                complete.append(clock.now - began)
            }
            let total = clock.now - start
            for (name, values) in [("enqueue", enqueue), ("lease", lease), ("complete", complete)] {
                let sorted = values.sorted()
                print(String(format: "%@: p50 %.2f ms, p95 %.2f ms", name, Measure.quantile(sorted, 0.5), Measure.quantile(sorted, 0.95)))
            }
            let perTask = zip(zip(enqueue, lease), complete).map { $0.0 + $0.1 + $1 }.sorted()
            print(String(format: "per task: p50 %.2f ms, p95 %.2f ms; %d tasks in %.2f s (%.0f tasks/s, one worker)",
                         Measure.quantile(perTask, 0.5), Measure.quantile(perTask, 0.95), tasks, Measure.seconds(total),
                         Double(tasks) / Measure.seconds(total)))
        }
    }
}

/// `visage bench query`: SimpleQuery latency over a dataset of synthetic file metadata.
struct BenchQuery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "SimpleQuery latency over a dataset of synthetic file metadata documents.")

    @OptionGroup var store: BenchStoreOptions
    @Option(help: "Files in the dataset.") var files = 10_000
    @Option(help: "Runs of each query.") var runs = 100

    func run() async throws {
        try await store.withStore { store in
            let index = FileIndex(store: store)
            let dataset = try await BenchStoreOptions.createDataset(in: store)
            let clock = ContinuousClock()
            let loadStart = clock.now
            var generator = SystemRandomNumberGenerator()
            for batch in stride(from: 0, to: files, by: 500) {
                let documents = (batch..<min(files, batch + 500)).map { Self.document($0, using: &generator) }
                try await store.withTransaction { db in
                    for document in documents {
                        let uri = document["URI"]!.stringValue!
                        try await index.write(IndexedFile(uri: uri, size: 1, document: document, faces: []), dataset: dataset,
                                              now: WallClock.nowMillis(), db: db)
                    }
                }
            }
            print(String(format: "loaded %d documents in %.1f s", files, Measure.seconds(clock.now - loadStart)))
            if store.kind == .postgres {
                // Measure the steady state: autovacuum gathers these statistics within a minute
                // or so of a bulk load; before that PostgreSQL may pick much slower plans.
                try await store.withConnection { db in try await db.raw("ANALYZE").run() }
            }
            let queries: [(String, String)] = [
                ("eq on Filename", #"{"Field":"Filename","Operation":"eq","Value":"IMG_%05d.jpg"}"#),
                ("eq on Figures.FigureClusterId", #"{"Field":"Figures.FigureClusterId","Operation":"eq","Value":"Cluster-%d"}"#),
                ("range on Size", #"{"Field":"Size","Operation":"gt","Value":"%d"}"#),
                ("prefix on URI", #"{"Field":"URI","Operation":"prefix","Value":"oss://bench/2024/%02d/"}"#),
                ("and of eq and range", #"{"Operation":"and","SubQueries":[{"Field":"CustomLabels.album","Operation":"eq","Value":"album-%d"},{"Field":"ImageWidth","Operation":"gte","Value":"3000"}]}"#),
            ]
            for (name, template) in queries {
                var latencies: [Duration] = []
                var hits = 0
                for run in 0..<runs {
                    let parameter: Int
                    switch name {
                    case "range on Size": parameter = 4_900_000 + run * 1000  // a few percent of the files
                    case "prefix on URI": parameter = run % 12 + 1
                    case "eq on Figures.FigureClusterId": parameter = run % 400
                    case "and of eq and range": parameter = run % 50
                    default: parameter = (run * 97) % files
                    }
                    var search = MetaSearch(condition: try MetaCondition(parsing: String(format: template, parameter)))
                    search.limit = 100
                    let began = clock.now
                    let result = try await index.search(dataset: dataset, search)
                    latencies.append(clock.now - began)
                    hits += result.total ?? 0
                }
                let sorted = latencies.sorted()
                print(String(format: "%@: p50 %.1f ms, p95 %.1f ms, %.0f hits on average", name,
                             Measure.quantile(sorted, 0.5), Measure.quantile(sorted, 0.95), Double(hits) / Double(runs)))
            }
        }
    }

    /// A FileMeta document shaped like an indexed photo: about 40 values, 0–3 faces.
    static func document(_ n: Int, using generator: inout SystemRandomNumberGenerator) -> [String: JSONValue] {
        let month = n % 12 + 1
        let faces = Int.random(in: 0...3, using: &generator)
        let figures: [JSONValue] = (0..<faces).map { _ in
            .object([
                "FigureId": .string(UUID().uuidString.lowercased()), "FigureType": .string("face"),
                "FigureClusterId": .string("Cluster-\(Int.random(in: 0..<400, using: &generator))"),
                "FaceQuality": .number(Double.random(in: 0...1, using: &generator)),
                "Boundary": .object(["Left": .number(100), "Top": .number(80), "Width": .number(200), "Height": .number(240)]),
                "HeadPose": .object(["Pitch": .number(2), "Roll": .number(-1), "Yaw": .number(5)]),
                "Sharpness": .number(0.9), "Mouth": .string("close"), "MouthConfidence": .number(0.8),
            ])
        }
        let name = String(format: "IMG_%05d.jpg", n)
        return [
            "URI": .string(String(format: "oss://bench/2024/%02d/%@", month, name)), "Filename": .string(name),
            "Size": .number(Double(Int.random(in: 200_000...5_000_000, using: &generator))),
            "ContentType": .string("image/jpeg"), "MediaType": .string("image"), "ETag": .string("\"\(UUID().uuidString)\""),
            "ImageWidth": .number(Double([1920, 3024, 4032].randomElement(using: &generator)!)),
            "ImageHeight": .number(Double([1080, 4032, 3024].randomElement(using: &generator)!)),
            "Orientation": .number(1), "ProduceTime": .string(String(format: "2024-%02d-%02dT10:00:00Z", month, n % 28 + 1)),
            "Figures": .array(figures), "FigureCount": .number(Double(faces)),
            "CustomLabels": .object(["album": .string("album-\(n % 50)")]),
            "ImageScore": .object(["OverallQualityScore": .number(Double.random(in: 0...1, using: &generator))]),
        ]
    }
}
