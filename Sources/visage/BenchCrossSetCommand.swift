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
    @Option(help: "How far below 1% a 1:1 setting must keep false accepts on the tuning sets (a share, e.g. 0.002).")
    var falseAcceptMargin = BenchCrossSet.falseAcceptMargin
    @Flag(help: "Also print every clustering setting's figures on every set.") var verbose = false
    @Flag(help: "Measure 1:1 comparison only.") var skipClustering = false

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
        if !skipClustering { try clustering(sets) }
        try comparison(sets)
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
        let persons = try Self.persons(set, settings: settings, file: file)
        let labelled = faces.indices.filter { faces[$0].identity != nil }
        let identities = Array(Set(labelled.map { faces[$0].identity! })).sorted()
        return BenchCluster.pairwise(labels: labelled.map { identities.firstIndex(of: faces[$0].identity!)! },
                                     placement: labelled.map { persons[$0] })
    }

    /// The person each face of a set is placed in, all photos clustered at once.
    static func persons(_ set: LabelledSet, settings: ClusterSettings, file: URL) throws -> [String?] {
        let faces = set.faces
        let photos = Dictionary(Set(faces.map(\.photo)).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let clusterFaces = faces.map { ClusterFace(photo: photos[$0.photo]!, highQuality: $0.highQuality, person: nil) }
        return try BenchCluster.clusterOnce(embeddings: faces.flatMap(\.emb), persons: Array(repeating: nil, count: faces.count),
                                            file: file, settings: settings, clusterFaces: clusterFaces).persons
    }

    // MARK: Comparison

    /// Every face of a set clustered with the current settings, as a project's people: the faces
    /// placed in a person, labelled with it.
    static func clusteredPeople(_ set: LabelledSet) throws -> [(identity: String, embedding: [Float])] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("visage-people-\(UUID().uuidString).faiss")
        defer { try? FileManager.default.removeItem(at: file) }
        let persons = try Self.persons(set, settings: ClusterSettings.fromEnvironment(), file: file)
        return set.faces.indices.compactMap { index in persons[index].map { ("\(set.name) \($0)", set.faces[index].emb) } }
    }

    /// What each similarity (`FaceComparison.similarity` of the rule's score, the value 1:1
    /// answers carry) means on each set: the share of different-person pairs at or above it
    /// (false accepts) and of same-person pairs below it (false rejects).
    /// `toScore` turns the rule's values into decision scores.
    func similarityTable(rule: String, sets: [LabelledSet], scores: [FaceEvaluation.PairScores], toScore: Double) {
        print("\n# Similarity → false accepts / false rejects, \(rule)")
        print("\n| similarity ≥ | " + sets.map { "`\($0.name)` FA / FR" }.joined(separator: " | ") + " |")
        print("| --- |" + String(repeating: " --- |", count: sets.count))
        for similarity in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] {
            let score = FaceComparison.score(atSimilarity: similarity) / toScore
            let cells = scores.map { s in
                let falseAccepts = Double(s.different.filter { $0 <= score }.count) / Double(max(s.different.count, 1))
                let falseRejects = Double(s.same.filter { $0 > score }.count) / Double(max(s.same.count, 1))
                return String(format: "%.4f / %.3f", falseAccepts, falseRejects)
            }
            print(String(format: "| %.1f | ", similarity) + cells.joined(separator: " | ") + " |")
        }
    }

    /// A 1:1 rule: the value it computes for each pair (a distance, or a distance's ratio to the
    /// pair's typical distance to a cohort), its variants (distance ceilings), the thresholds tried
    /// and the server's defaults.
    struct CompareRule {
        let name: String
        let thresholds: [Double]
        /// Every variant's name and every set's pair values when `held` is the set held out (some
        /// cohorts depend on it).
        let variants: (_ held: Int) -> [(name: String, scores: [FaceEvaluation.PairScores])]
        /// The pair scores at the server's defaults (`FaceComparison.score`, 1 at the boundary) when
        /// they are the same in every fold, for the similarity table and the defaults' figures.
        let defaults: [FaceEvaluation.PairScores]?
    }

    /// The goals of a 1:1 rule on a set at a threshold: false accepts ≤ 1%, and balanced accuracy
    /// ≥ 0.97 on Western sets, ≥ 0.86 on the others.
    func accuracyGoal(_ set: LabelledSet) -> Double { western.contains(set.name) ? 0.97 : 0.86 }

    /// The variant and threshold chosen on `tuning` sets: false accepts ≤ `cap` on each, then the
    /// best worst balanced accuracy (ties: the earlier variant, the tighter threshold). Nil when
    /// none keeps false accepts that low.
    static func choose(_ variants: [(name: String, scores: [FaceEvaluation.PairScores])], thresholds: [Double],
                       tuning: [Int], cap: Double) -> (variant: Int, threshold: Double)? {
        var best: (variant: Int, threshold: Double, accuracy: Double)?
        for (index, variant) in variants.enumerated() {
            for t in thresholds where tuning.allSatisfy({ variant.scores[$0].falseAcceptRate(at: t) <= cap }) {
                let accuracy = tuning.map { variant.scores[$0].balancedAccuracy(at: t) }.min()!
                if best == nil || accuracy > best!.accuracy { best = (index, t, accuracy) }
            }
        }
        return best.map { ($0.variant, $0.threshold) }
    }

    /// How far below 1% a chosen threshold must keep false accepts on the tuning sets (none by
    /// default; `--false-accept-margin` shows what a margin would change).
    static let falseAcceptMargin = 0.0

    /// Ceilings tried for the cohort rules' distance (∞: none).
    static let ceilings = [0.5, 0.525, 0.55, 0.575, 0.6, 0.625, 0.65, Double.infinity]
    /// Limits tried on a pair's distance over its distance to the people nearest it (∞: none).
    static let nearestLimits = [0.8, 0.85, 0.9, 0.95, Double.infinity]

    func comparison(_ sets: [LabelledSet]) throws {
        let pairsOf: (LabelledSet) -> [(identity: String, embedding: [Float])] = { set in
            set.faces.compactMap { face in face.identity.map { ($0, face.emb) } }
        }
        let labelled = sets.map(pairsOf)
        /// Every set's pairs judged against a cohort (`typicalOf(set)` gives each pair's typical
        /// distances to it): one variant a distance ceiling and a limit on the ratio to the nearest
        /// people, each pair's value its distance's ratio to its typical distance (∞ where the
        /// ceiling or the nearest people rule it out).
        func cohortVariants(typicalOf: (Int) -> (Int, Int) -> Cohort.Typical?) -> [(name: String, scores: [FaceEvaluation.PairScores])] {
            let perSet: [(distance: [Double], typical: [Cohort.Typical?])] = labelled.indices.map { index in
                let faces = labelled[index], typical = typicalOf(index)
                var distances: [Double] = [], typicals: [Cohort.Typical?] = []
                for i in faces.indices {
                    for j in faces.indices where j > i {
                        distances.append(FaceComparison.distance(faces[i].embedding, faces[j].embedding))
                        typicals.append(typical(i, j))
                    }
                }
                return (distances, typicals)
            }
            return Self.ceilings.flatMap { ceiling in
                Self.nearestLimits.map { nearestLimit in
                    let scores = labelled.indices.map { index in
                        // PairScores visits the pairs in the order they were measured above.
                        var pair = 0
                        return FaceEvaluation.PairScores(labelled[index]) { _, _ in
                            defer { pair += 1 }
                            let d = perSet[index].distance[pair]
                            guard let t = perSet[index].typical[pair], d < ceiling, d < nearestLimit * t.nearest else { return .infinity }
                            return d / t.mean
                        }
                    }
                    let name = (ceiling.isFinite ? String(format: "ceiling %.3f", ceiling) : "no ceiling")
                        + (nearestLimit.isFinite ? String(format: ", nearest people %.2f", nearestLimit) : ", no nearest-people limit")
                    return (name, scores)
                }
            }
        }
        func cohortVariants(_ cohort: @escaping (Int) -> [(identity: String, embedding: [Float])]) -> [(name: String, scores: [FaceEvaluation.PairScores])] {
            cohortVariants { FaceEvaluation.PairScores.typicalDistances(labelled[$0], cohort: cohort($0)) }
        }
        let ownCohort = cohortVariants { labelled[$0] }
        let pool = labelled.flatMap { $0 }
        let pooledCohort = cohortVariants { _ in pool }
        // A project's people: every face of the set clustered with the default settings, the
        // faces placed in a person labelled with it, the pair's own people among them.
        let people = try sets.map { set in try Self.clusteredPeople(set) }
        let projectPeople = cohortVariants { FaceEvaluation.PairScores.typicalDistances(labelled[$0], amongPeople: people[$0]) }
        let everyonesPeople = people.flatMap { $0 }
        let mixedProjectPeople = cohortVariants { FaceEvaluation.PairScores.typicalDistances(labelled[$0], amongPeople: everyonesPeople) }
        /// The server's defaults against a collection of people that may hold the pair's own.
        func amongPeopleDefaults(_ pool: (Int) -> [(identity: String, embedding: [Float])]) -> [FaceEvaluation.PairScores] {
            labelled.indices.map { FaceEvaluation.PairScores(labelled[$0], amongPeople: pool($0)) }
        }
        let ratios = stride(from: 0.55, through: 1.0001, by: 0.0025).map { $0 }
        let rules = [
            CompareRule(name: "distance (no cohort: the server's 1:1 answers)",
                        thresholds: stride(from: 0.35, through: 0.6001, by: 0.0025).map { $0 },
                        variants: { _ in [("", labelled.map { FaceEvaluation.PairScores($0) })] },
                        defaults: labelled.map { faces in
                            FaceEvaluation.PairScores(faces) { i, j in FaceComparison.score(faces[i].embedding, faces[j].embedding) }
                        }),
            CompareRule(name: "cohort: the set's other people (a collection of people like the pair)", thresholds: ratios,
                        variants: { _ in ownCohort }, defaults: labelled.map { FaceEvaluation.PairScores($0, cohort: $0) }),
            CompareRule(name: "cohort: the other people of every set pooled (a mixed collection)", thresholds: ratios,
                        variants: { _ in pooledCohort }, defaults: labelled.map { FaceEvaluation.PairScores($0, cohort: pool) }),
            CompareRule(name: "cohort: the set's people as clustering finds them, the pair's own among them and left out by distance (a project's people)",
                        thresholds: ratios, variants: { _ in projectPeople }, defaults: amongPeopleDefaults { people[$0] }),
            CompareRule(name: "cohort: every set's people as clustering finds them, pooled (a project mixing populations), the pair's own left out by distance",
                        thresholds: ratios, variants: { _ in mixedProjectPeople }, defaults: amongPeopleDefaults { _ in everyonesPeople }),
            CompareRule(name: "cohort: the tuning sets' people only (a cohort shipped with the server, of none of the people measured)",
                        thresholds: ratios, variants: { held in
                            cohortVariants { _ in labelled.indices.filter { $0 != held }.flatMap { labelled[$0] } }
                        }, defaults: nil),
        ]
        let cap = 0.01 - falseAcceptMargin
        for rule in rules {
            if let defaults = rule.defaults {
                similarityTable(rule: rule.name, sets: sets, scores: defaults, toScore: 1)
            }
            print("\n# Comparison, \(rule.name): setting chosen for false accepts ≤ "
                  + String(format: "%.2f%%", cap * 100) + " on every tuning set, then the best worst balanced accuracy")
            print("\n| held out | tuned on | setting | false accepts | false rejects | balanced accuracy | goal met |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for (held, set) in sets.enumerated() {
                let tuning = sets.indices.filter { $0 != held }
                let variants = rule.variants(held)
                let tuned = tuning.map { "`\(sets[$0].name)`" }.joined(separator: ", ")
                guard let chosen = Self.choose(variants, thresholds: rule.thresholds, tuning: tuning, cap: cap) else {
                    print("| `\(set.name)` | \(tuned) | none keeps false accepts that low | | | | no |")
                    continue
                }
                let (variant, threshold) = (chosen.variant, chosen.threshold)
                let s = variants[variant].scores[held]
                let met = s.falseAcceptRate(at: threshold) <= 0.01 && s.balancedAccuracy(at: threshold) >= accuracyGoal(set)
                let setting = (variants[variant].name.isEmpty ? "" : variants[variant].name + ", ") + String(format: "threshold %.4f", threshold)
                print(String(format: "| `%@` | %@ | %@ | %.4f | %.4f | %.3f | %@ |", set.name, tuned, setting,
                             s.falseAcceptRate(at: threshold), 1 - s.trueAcceptRate(at: threshold), s.balancedAccuracy(at: threshold),
                             met ? "yes" : "no"))
            }
            if let defaults = rule.defaults {
                print("\nThe server's defaults on every set (score < 1):")
                print("\n| set | false accepts | false rejects | balanced accuracy | goal |\n| --- | --- | --- | --- | --- |")
                for (index, set) in sets.enumerated() {
                    let s = defaults[index]
                    print(String(format: "| `%@` | %.4f | %.4f | %.3f | FA ≤ 0.01, BA ≥ %.2f |", set.name, s.falseAcceptRate(at: 1),
                                 1 - s.trueAcceptRate(at: 1), s.balancedAccuracy(at: 1), accuracyGoal(set)))
                }
            }
        }
    }
}
