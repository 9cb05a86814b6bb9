import ArgumentParser
import Foundation
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
            var detection = FaceEvaluation.DetectionScore()
            var labelled: [(identity: String, embedding: [Float])] = []
            var latencies: [Duration] = []
            let start = ContinuousClock.now
            for entry in manifest.files {
                let bytes = try Data(contentsOf: folder.appendingPathComponent(entry.name))
                let began = ContinuousClock.now
                let analysis = try await faces.analyze(bytes)
                latencies.append(ContinuousClock.now - began)
                if let expected = entry.expected_face_count { detection.add(expected: expected, detected: analysis.faces.count) }
                if let identity = entry.identity,
                   let largest = analysis.largestFace {
                    labelled.append(("\(folder.lastPathComponent)/\(identity)", largest.embedding))
                }
            }
            let elapsed = ContinuousClock.now - start
            latencies.sort()
            measured.append((folder.lastPathComponent, labelled))
            print("\n## \(folder.lastPathComponent)")
            print("images \(manifest.files.count), \(String(format: "%.2f", Double(manifest.files.count) / seconds(elapsed))) images/s, "
                  + "median \(format(latencies[latencies.count / 2])) per image")
            print(String(format: "detection: recall %.3f (%d/%d faces), %d extra on %d images",
                         detection.recall, detection.found, detection.expected, detection.extra, detection.images))
        }
        // Verification after every set is in, so each set's pairs can be judged against a cohort
        // pooled from all sets (the pair's own two identities left out).
        let pool = measured.flatMap(\.faces)
        for (name, labelled) in measured {
            let plain = FaceEvaluation.PairScores(labelled)
            let judged = FaceEvaluation.PairScores(labelled, cohort: pool)
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

    /// Current resident set size, from /proc/self/statm.
    func residentMegabytes() -> Int { Measure.residentMegabytes() }

    func seconds(_ duration: Duration) -> Double { Measure.seconds(duration) }

    func format(_ duration: Duration) -> String { String(format: "%.0f ms", seconds(duration) * 1000) }
}
