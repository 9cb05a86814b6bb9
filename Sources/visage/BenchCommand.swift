import ArgumentParser
import Foundation
import VisageCore
import VisageMedia
import VisageStore
import VisageVision

/// `visage bench ...`: measurements recorded in BENCHMARKS.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure accuracy and speed.",
        subcommands: [BenchFaces.self, BenchModeration.self, BenchQueue.self, BenchQuery.self, BenchCluster.self, BenchCrossSet.self,
                      BenchChecksum.self])
}

/// `visage bench faces DIR...`: detection recall, verification and throughput on labelled photo
/// sets (a folder with a manifest.json listing files, identities and expected face counts).
struct BenchFaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces", abstract: "Detection, verification and speed on labelled photo sets.")

    @OptionGroup var engine: EngineOptions
    @Option(help: "Images analysed at once (default: the number of cores), as a server analyses concurrent requests.")
    var concurrency = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Also time each stage (read, decode, detect, landmarks, embed, attributes, quality, store) and print where the time goes.")
    var stages = false
    @Argument(help: "Photo set folders, each with a manifest.json.") var sets: [String]

    struct Entry: Decodable {
        let name: String
        let identity: String?
        let expected_face_count: Int?
    }

    struct Manifest: Decodable { let files: [Entry] }

    func run() async throws {
        let loadStart = ContinuousClock.now
        let faces = try engine.loadEngine()
        print("models loaded in \(format(ContinuousClock.now - loadStart)), resident memory \(residentMegabytes()) MB")
        var measured: [(name: String, faces: [(identity: String, embedding: [Float])])] = []
        for set in sets {
            let folder = URL(fileURLWithPath: set)
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
            let start = ContinuousClock.now
            let results = try await analyzeAll(manifest.files, in: folder, faces: faces)
            let elapsed = ContinuousClock.now - start
            var detection = FaceEvaluation.DetectionScore()
            var labelled: [(identity: String, embedding: [Float])] = []
            for (entry, result) in zip(manifest.files, results) {
                if let expected = entry.expected_face_count { detection.add(expected: expected, detected: result.analysis.faces.count) }
                if let identity = entry.identity, let largest = result.analysis.largestFace {
                    labelled.append(("\(folder.lastPathComponent)/\(identity)", largest.embedding))
                }
            }
            let latencies = results.map(\.latency).sorted()
            measured.append((folder.lastPathComponent, labelled))
            print("\n## \(folder.lastPathComponent)")
            print("images \(manifest.files.count), \(String(format: "%.2f", Double(manifest.files.count) / seconds(elapsed))) images/s, "
                  + "median \(format(latencies[latencies.count / 2])) per image, \(concurrency) at once")
            print(String(format: "detection: recall %.3f (%d/%d faces), %d extra on %d images",
                         detection.recall, detection.found, detection.expected, detection.extra, detection.images))
            if stages { try await printStages(results) }
        }
        // Each set's pairs are also judged against a cohort of the set's other people (the pair's
        // own two identities left out): people like the two compared, as a collection has.
        for (name, labelled) in measured {
            let plain = FaceEvaluation.PairScores(labelled)
            let judged = FaceEvaluation.PairScores(labelled, cohort: labelled)
            print("\n## \(name) verification: \(plain.same.count) same-person pairs, \(plain.different.count) different-person pairs")
            print("| rule | accuracy (balanced) | true accepts | false accepts |")
            print("| --- | --- | --- | --- |")
            for threshold in [0.40, 0.425, 0.45, 0.475, 0.50, 0.55, 0.60] {
                let marker = threshold == FaceComparison.samePersonDistance ? " (chosen, no cohort)" : ""
                print(String(format: "| distance < %.3f%@ | %.3f | %.3f | %.4f |", threshold, marker, plain.balancedAccuracy(at: threshold),
                             plain.trueAcceptRate(at: threshold), plain.falseAcceptRate(at: threshold)))
            }
            for factor in [0.95, 1.0, 1.05] {
                let marker = factor == 1 ? " (chosen)" : ""
                print(String(format: "| cohort score < %.2f%@ | %.3f | %.3f | %.4f |", factor, marker, judged.balancedAccuracy(at: factor),
                             judged.trueAcceptRate(at: factor), judged.falseAcceptRate(at: factor)))
            }
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        print("\npeak RSS \(usage.ru_maxrss / 1024) MB")
    }

    /// One image's analysis, how long it took from reading the file to the answer, and its stages.
    struct Result: Sendable {
        let analysis: ImageAnalysis
        let latency: Duration
        let read: Duration
        let times: StageTimes
    }

    /// Every image of a set, `concurrency` at once, results in the manifest's order.
    func analyzeAll(_ entries: [Entry], in folder: URL, faces: FaceEngine) async throws -> [Result] {
        var results = [Result?](repeating: nil, count: entries.count)
        try await forEachConcurrently(entries.count, limit: concurrency, { index in
            let began = ContinuousClock.now
            let bytes = try Data(contentsOf: folder.appendingPathComponent(entries[index].name))
            let read = ContinuousClock.now - began
            let (analysis, times) = try await faces.analyzeTimed(bytes)
            return Result(analysis: analysis, latency: ContinuousClock.now - began, read: read, times: times)
        }, done: { index, result in results[index] = result })
        return results.map { $0! }
    }

    /// Total and median time of each stage, and its share of the summed stage time. "store" writes
    /// each image's document and faces into a new SQLite catalog, as indexing does.
    func printStages(_ results: [Result]) async throws {
        let stored = try await BenchStoreOptions.parse([]).withStore { store in
            let dataset = try await BenchStoreOptions.createDataset(in: store)
            let index = FileIndex(store: store)
            var times: [Duration] = []
            for (position, result) in results.enumerated() {
                let (figures, faces) = FileIndexer.faces(of: result.analysis)
                let uri = "oss://bench/\(position).jpg"
                let file = IndexedFile(uri: uri, size: 1, document: ["URI": .string(uri), "Figures": .array(figures)], faces: faces)
                let began = ContinuousClock.now
                try await store.withTransaction { db in try await index.write(file, dataset: dataset, now: WallClock.nowMillis(), db: db) }
                times.append(ContinuousClock.now - began)
            }
            return times
        }
        var rows: [(String, [Duration])] = [("read", results.map(\.read))]
        for (position, stage) in StageTimes().named.enumerated() {
            rows.append((stage.name, results.map { $0.times.named[position].time }))
        }
        rows.append(("store", stored))
        let total = rows.reduce(0.0) { $0 + $1.1.reduce(0.0) { $0 + seconds($1) } }
        print("| stage | total ms | share | median ms per image |")
        print("| --- | --- | --- | --- |")
        for (name, times) in rows {
            let sum = times.reduce(0.0) { $0 + seconds($1) }
            print(String(format: "| %@ | %.0f | %.1f%% | %.2f |", name, sum * 1000, 100 * sum / max(total, 1e-9),
                         Measure.quantile(times.sorted(), 0.5)))
        }
        let faceCount = results.reduce(0) { $0 + $1.analysis.faces.count }
        print("faces: \(faceCount); per-face stages (landmarks, embed, attributes) sum per face: "
              + String(format: "%.2f ms", rows.filter { ["landmarks", "embed", "attributes"].contains($0.0) }
                  .reduce(0.0) { $0 + $1.1.reduce(0.0) { $0 + seconds($1) } } * 1000 / Double(max(faceCount, 1))))
    }

    /// Current resident set size, from /proc/self/statm.
    func residentMegabytes() -> Int { Measure.residentMegabytes() }

    func seconds(_ duration: Duration) -> Double { Measure.seconds(duration) }

    func format(_ duration: Duration) -> String { String(format: "%.0f ms", seconds(duration) * 1000) }
}
