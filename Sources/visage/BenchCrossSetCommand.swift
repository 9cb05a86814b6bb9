import ArgumentParser
import Foundation
import VisageMedia
import VisageVision

/// `visage bench cross-set`: settings tuned on some labelled sets and measured on one they were
/// not tuned on, each set held out in turn, for people clustering and for 1:1 comparison. A
/// figure on a set that took part in choosing the setting says little about people nobody tuned
/// for; only the held-out figures are reported as such.
struct BenchCrossSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cross-set", abstract: "Tune clustering and comparison on some labelled sets, report on the one held out.")

    @Option(help: ArgumentHelp("A JSON file of labelled faces (Benchmarks/labelled_faces.py); repeat for each set (2 or more).",
                               valueName: "file"))
    var labelled: [String] = []
    @Option(help: ArgumentHelp("Set names (file names without .json) whose clustering recall goal is 0.90 instead of 0.60.",
                               valueName: "name"))
    var western: [String] = ["faces"]
    @Option(help: "Threshold steps (0.025) a clustering setting must stay precise through on the tuning sets.")
    var margin = BenchCrossSet.precisionMargin
    @Flag(help: "Also print every clustering setting's figures on every set.") var verbose = false

    func validate() throws {
        if labelled.count < 2 { throw ValidationError("Give at least two --labelled sets.") }
    }

    struct LabelledSet {
        let name: String
        let faces: [BenchCluster.LabelledFace]
        var recallGoal: Double
    }

    func run() async throws {
        let sets = try labelled.map { path in
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return LabelledSet(name: name, faces: try BenchCluster.LabelledFace.load(path), recallGoal: western.contains(name) ? 0.9 : 0.6)
        }
        try clustering(sets)
        comparison(sets)
    }

    // MARK: Clustering

    /// A clustering setting under trial and its pairwise figures per set.
    struct ClusterTrial {
        let settings: ClusterSettings
        var precision: [Double] = []
        var recall: [Double] = []
    }

    static func describe(_ settings: ClusterSettings) -> String {
        let density = settings.densityNeighbours == 0 ? "global distance"
            : String(format: "density k=%d ref %.2f max ×%.2f", settings.densityNeighbours, settings.densityReference,
                     settings.densityMaxScale)
        return String(format: "threshold %.3f, attach %.3f, %@", settings.threshold, settings.attachThreshold, density)
    }

    /// The settings tried: thresholds over the usual range (the attach threshold 0.025 above),
    /// with one global distance and with distances lengthened in crowded regions at several
    /// strengths.
    static func clusterGrid() -> [ClusterSettings] {
        var grid: [ClusterSettings] = []
        for threshold in stride(from: Float(0.4), through: 0.6001, by: thresholdStep) {
            var base = ClusterSettings()
            base.threshold = threshold
            base.attachThreshold = threshold + 0.025
            grid.append(base)
            for k in [5, 10, 20] {
                for reference: Float in [0.5, 0.55, 0.6, 0.65] {
                    for maxScale: Float in [1.1, 1.15, 1.2, 1.3] {
                        var settings = base
                        settings.densityNeighbours = k
                        settings.densityReference = reference
                        settings.densityMaxScale = maxScale
                        grid.append(settings)
                    }
                }
            }
        }
        return grid
    }

    static let thresholdStep: Float = 0.025
    /// Threshold steps a chosen setting must stay precise through on every tuning set: people
    /// nobody tuned for meet the precision cliff sooner, so a setting at the edge of it on the
    /// tuning sets is not chosen. (With 1 or 2 steps the choice tuned on the other two sets
    /// merged people on `faces-east-asia-lfw`; BENCHMARKS.md.)
    static let precisionMargin = 3

    /// The trial of `settings` with the threshold `steps` steps looser, if the grid has it.
    static func looser(_ trials: [ClusterTrial], than settings: ClusterSettings, by steps: Int) -> ClusterTrial? {
        var wanted = settings
        wanted.threshold += Float(steps) * thresholdStep
        wanted.attachThreshold += Float(steps) * thresholdStep
        return trials.first { trial in
            abs(trial.settings.threshold - wanted.threshold) < 1e-4 && abs(trial.settings.attachThreshold - wanted.attachThreshold) < 1e-4
                && trial.settings.densityNeighbours == wanted.densityNeighbours
                && trial.settings.densityReference == wanted.densityReference && trial.settings.densityMaxScale == wanted.densityMaxScale
        }
    }

    /// The setting chosen on `tuning` sets: among those at precision ≥ 0.98 on each, at their
    /// threshold and `precisionMargin` steps looser, the best worst recall as a share of each
    /// set's goal (ties: the earlier, tighter one). Nil when none qualifies.
    static func choose(_ trials: [ClusterTrial], tuning: [Int], goals: [Double], margin: Int = precisionMargin) -> Int? {
        var best: (index: Int, score: Double)?
        for (index, trial) in trials.enumerated() {
            let precise = (0...margin).allSatisfy { steps in
                guard let looser = steps == 0 ? trial : looser(trials, than: trial.settings, by: steps) else { return false }
                return tuning.allSatisfy { looser.precision[$0] >= 0.98 }
            }
            guard precise else { continue }
            let score = tuning.map { trial.recall[$0] / goals[$0] }.min()!
            if best == nil || score > best!.score { best = (index, score) }
        }
        return best?.index
    }

    func clustering(_ sets: [LabelledSet]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visage-cross-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var trials = Self.clusterGrid().map { ClusterTrial(settings: $0) }
        let start = ContinuousClock.now
        for set in sets {
            for index in trials.indices {
                let (precision, recall) = try Self.cluster(set, settings: trials[index].settings,
                                                           file: directory.appendingPathComponent("\(set.name)-\(index).faiss"))
                trials[index].precision.append(precision)
                trials[index].recall.append(recall)
            }
        }
        print("# Clustering: \(trials.count) settings on \(sets.count) sets in "
              + String(format: "%.1f s", Measure.seconds(ContinuousClock.now - start)))
        if verbose {
            for trial in trials {
                let figures = sets.indices.map { String(format: "%@ %.3f/%.3f", sets[$0].name, trial.precision[$0], trial.recall[$0]) }
                print("  \(Self.describe(trial.settings)): \(figures.joined(separator: ", "))")
            }
        }
        print("\n| held out | tuned on | chosen setting | held-out precision | held-out recall | goal met | without the margin: chosen setting | held-out P / R |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for (held, set) in sets.enumerated() {
            let tuning = sets.indices.filter { $0 != held }
            guard let best = Self.choose(trials, tuning: tuning, goals: sets.map(\.recallGoal), margin: margin) else {
                print("| `\(set.name)` | | no setting keeps precision on the tuning sets | | | |")
                continue
            }
            let trial = trials[best]
            let met = trial.precision[held] >= 0.98 && trial.recall[held] >= set.recallGoal
            // The same choice without the safety margin, to show what the margin is for.
            let naive = Self.choose(trials, tuning: tuning, goals: sets.map(\.recallGoal), margin: 0).map { trials[$0] }
            print(String(format: "| `%@` | %@ | %@ | %.3f | %.3f | %@ | %@ | %@ |", set.name,
                         tuning.map { "`\(sets[$0].name)`" }.joined(separator: ", "), Self.describe(trial.settings),
                         trial.precision[held], trial.recall[held], met ? "yes" : "no",
                         naive.map { Self.describe($0.settings) } ?? "none",
                         naive.map { String(format: "%.3f / %.3f", $0.precision[held], $0.recall[held]) } ?? ""))
        }
        let defaults = ClusterSettings.fromEnvironment()
        print("\nThe current settings (\(Self.describe(defaults))) on every set:")
        print("\n| set | precision | recall | goal |\n| --- | --- | --- | --- |")
        for set in sets {
            let (precision, recall) = try Self.cluster(set, settings: defaults, file: directory.appendingPathComponent("\(set.name)-default.faiss"))
            print(String(format: "| `%@` | %.3f | %.3f | P ≥ 0.98, R ≥ %.2f |", set.name, precision, recall, set.recallGoal))
        }
    }

    /// Pairwise precision and recall over the labelled faces of a set, all photos clustered at once.
    static func cluster(_ set: LabelledSet, settings: ClusterSettings, file: URL) throws -> (Double, Double) {
        let faces = set.faces
        let photos = Dictionary(Set(faces.map(\.photo)).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let clusterFaces = faces.map { ClusterFace(photo: photos[$0.photo]!, highQuality: $0.highQuality, person: nil) }
        let run = try BenchCluster.clusterOnce(embeddings: faces.flatMap(\.emb), persons: Array(repeating: nil, count: faces.count),
                                               file: file, settings: settings, clusterFaces: clusterFaces)
        let labelled = faces.indices.filter { faces[$0].identity != nil }
        let identities = Array(Set(labelled.map { faces[$0].identity! })).sorted()
        return BenchCluster.pairwise(labels: labelled.map { identities.firstIndex(of: faces[$0].identity!)! },
                                     placement: labelled.map { run.persons[$0] })
    }

    // MARK: Comparison

    /// What each similarity (`FaceComparison.similarity` of the rule's score, the value 1:1
    /// answers carry) means on each set: the share of different-person pairs at or above it
    /// (false accepts) and of same-person pairs below it (false rejects).
    /// `toScore` turns the rule's values into decision scores (distances are divided by the
    /// no-cohort distance, as the comparison does).
    func similarityTable(rule: String, sets: [LabelledSet], scores: [FaceEvaluation.PairScores], toScore: Double) {
        print("\n# Similarity → false accepts / false rejects, \(rule)")
        print("\n| similarity ≥ | " + sets.map { "`\($0.name)` FA / FR" }.joined(separator: " | ") + " |")
        print("| --- |" + String(repeating: " --- |", count: sets.count))
        for similarity in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] {
            // similarity = 1 / (1 + e^(7(score − 1))) ≥ s  ⇔  score ≤ 1 + ln(1/s − 1) / 7
            let score = (1 + log(1 / similarity - 1) / 7) / toScore
            let cells = scores.map { s in
                let falseAccepts = Double(s.different.filter { $0 <= score }.count) / Double(max(s.different.count, 1))
                let falseRejects = Double(s.same.filter { $0 > score }.count) / Double(max(s.same.count, 1))
                return String(format: "%.4f / %.3f", falseAccepts, falseRejects)
            }
            print(String(format: "| %.1f | ", similarity) + cells.joined(separator: " | ") + " |")
        }
    }

    /// A 1:1 rule: the score it computes (distance, or the cohort score) and its thresholds.
    struct CompareRule {
        let name: String
        /// Multiplies a value into a decision score (1 for cohort scores).
        let toScore: Double
        let thresholds: [Double]
        let scores: (LabelledSet) -> FaceEvaluation.PairScores
    }

    func comparison(_ sets: [LabelledSet]) {
        let pairsOf: (LabelledSet) -> [(identity: String, embedding: [Float])] = { set in
            set.faces.compactMap { face in face.identity.map { ($0, face.emb) } }
        }
        let rules = [
            CompareRule(name: "distance", toScore: 1 / FaceComparison.samePersonDistance, thresholds: stride(from: 0.35, through: 0.6, by: 0.0125).map { $0 }) {
                FaceEvaluation.PairScores(pairsOf($0))
            },
            CompareRule(name: "cohort score (cohort: the set's other people)", toScore: 1,
                        thresholds: stride(from: 0.8, through: 1.2, by: 0.0125).map { $0 }) {
                FaceEvaluation.PairScores(pairsOf($0), cohort: pairsOf($0))
            },
        ]
        for rule in rules {
            let scores = sets.map(rule.scores)
            similarityTable(rule: rule.name, sets: sets, scores: scores, toScore: rule.toScore)
            print("\n# Comparison, \(rule.name): threshold chosen for false accepts ≤ 1% on every tuning set, then the best worst balanced accuracy")
            print("\n| held out | tuned on | threshold | false accepts | false rejects | balanced accuracy |")
            print("| --- | --- | --- | --- | --- | --- |")
            for (held, set) in sets.enumerated() {
                let tuning = sets.indices.filter { $0 != held }
                let allowed = rule.thresholds.filter { t in tuning.allSatisfy { scores[$0].falseAcceptRate(at: t) <= 0.01 } }
                guard let threshold = allowed.max(by: { a, b in
                    tuning.map { scores[$0].balancedAccuracy(at: a) }.min()! < tuning.map { scores[$0].balancedAccuracy(at: b) }.min()!
                }) else {
                    print("| `\(set.name)` | | none keeps false accepts ≤ 1% | | | |")
                    continue
                }
                let s = scores[held]
                print(String(format: "| `%@` | %@ | %.4f | %.4f | %.4f | %.3f |", set.name,
                             tuning.map { "`\(sets[$0].name)`" }.joined(separator: ", "), threshold,
                             s.falseAcceptRate(at: threshold), 1 - s.trueAcceptRate(at: threshold), s.balancedAccuracy(at: threshold)))
            }
        }
    }
}
