import ArgumentParser
import Foundation
import VisageMedia

/// `visage bench cluster`: the clustering engine (FAISS neighbour search and the clusterer) on
/// synthetic embeddings drawn around centres, from scratch and then incrementally.
struct BenchCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Clustering time and peak memory on synthetic 128-d embeddings.")

    @Option(help: "Faces to cluster from scratch.") var faces = 100_000
    @Option(help: "Centres (people) the faces are drawn around.") var centres = 2_000
    @Option(help: "Faces then added and clustered incrementally.") var add = 1_000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Instead of synthetic faces: a JSON file of labelled faces (Benchmarks/cluster_peer.py --save); repeatable.",
                               valueName: "file"))
    var labelled: [String] = []

    func run() async throws {
        if !labelled.isEmpty {
            for path in labelled { try accuracy(path) }
            return
        }
        let dimension = 128
        var random = SplitMix(state: seed)
        // Centre spread and face noise put faces of one centre about 0.42 apart and centres
        // about 1.0 apart (Euclidean), like dlib's embeddings of one and of different people.
        let centreSpread: Float = 1.0 / Float(2 * dimension).squareRoot()
        let faceNoise: Float = 0.42 / Float(2 * dimension).squareRoot()
        let centreVectors = (0..<centres * dimension).map { _ in random.normal() * centreSpread }
        func draw(_ count: Int) -> (embeddings: [Float], labels: [Int]) {
            var embeddings: [Float] = [], labels: [Int] = []
            embeddings.reserveCapacity(count * dimension)
            for _ in 0..<count {
                let centre = Int(random.next() % UInt64(centres))
                labels.append(centre)
                for d in 0..<dimension { embeddings.append(centreVectors[centre * dimension + d] + random.normal() * faceNoise) }
            }
            return (embeddings, labels)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visage-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bench.faiss")
        let settings = ClusterSettings.fromEnvironment()

        let first = draw(faces)
        let scratch = try Self.clusterOnce(embeddings: first.embeddings, persons: Array(repeating: nil, count: faces), file: file,
                                      settings: settings)
        let (precision, recall) = Self.pairwise(labels: first.labels, placement: scratch.persons)
        print(String(format: "from scratch: %d faces, %d centres: %.2f s (index %.2f s, cluster %.2f s), %@ index, people %d, "
                     + "placed %.1f%%, pairwise precision %.4f recall %.4f, peak memory %d MB",
                     faces, centres, scratch.total, scratch.indexing, scratch.clustering, scratch.approximate ? "IVF" : "exact",
                     Set(scratch.persons.compactMap { $0 }).count,
                     100 * Double(scratch.persons.compactMap { $0 }.count) / Double(faces), precision, recall, Self.peakMegabytes()))
        guard add > 0 else { return }
        let more = draw(add)
        let incremental = try Self.clusterOnce(embeddings: first.embeddings + more.embeddings,
                                          persons: scratch.persons + Array(repeating: nil, count: add), file: file, settings: settings)
        let joined = incremental.persons.suffix(add).filter { $0 != nil }.count
        print(String(format: "incremental: %d faces added to %d: %.2f s (index %.2f s, cluster %.2f s), %d joined a person, "
                     + "peak memory %d MB",
                     add, faces, incremental.total, incremental.indexing, incremental.clustering, joined, Self.peakMegabytes()))
    }

    struct Run {
        var persons: [String?]
        var total: Double
        var indexing: Double
        var clustering: Double
        var approximate: Bool
    }

    /// One clustering run over all faces, with the saved index brought up to date first.
    static func clusterOnce(embeddings: [Float], persons: [String?], file: URL, settings: ClusterSettings,
                     clusterFaces: [ClusterFace]? = nil) throws -> Run {
        let dimension = 128
        let start = ContinuousClock.now
        let ids = (0..<persons.count).map { Int64($0) }
        let vectors = try FaceVectors.open(file: file, ids: ids, embeddings: embeddings, dimension: dimension)
        if vectors.changed { try vectors.index.write(to: file) }
        let indexed = ContinuousClock.now
        let faces = clusterFaces ?? persons.enumerated().map { ClusterFace(photo: $0.offset, highQuality: true, person: $0.element) }
        var clusterer = FaceClusterer(settings: settings, faces: faces, embeddings: embeddings, dimension: dimension) { positions in
            try vectors.neighbours(of: positions, k: settings.neighbours)
        }
        let placement = try clusterer.place()
        var result = persons
        for (face, place) in placement {
            switch place {
            case let .existing(id): result[face] = id
            case let .new(group): result[face] = "new-\(group)-\(persons.count)"
            }
        }
        let end = ContinuousClock.now
        return Run(persons: result, total: Measure.seconds(end - start), indexing: Measure.seconds(indexed - start),
                   clustering: Measure.seconds(end - indexed), approximate: vectors.index.isApproximate)
    }

    /// A labelled face as Benchmarks/cluster_peer.py --save writes it.
    struct LabelledFace: Decodable {
        struct Box: Decodable { let Width: Double; let Height: Double }
        struct Pose: Decodable { let Pitch: Double; let Yaw: Double; let Roll: Double }
        let photo: String
        let identity: String?
        let emb: [Float]
        let box: Box
        let pose: Pose
        let quality: Double

        static func load(_ path: String) throws -> [LabelledFace] {
            try JSONDecoder().decode([LabelledFace].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }

        /// The quality gate the indexer applies before a face may found a person.
        var highQuality: Bool {
            box.Width > 75 && box.Height > 75 && abs(pose.Pitch) < 30 && abs(pose.Yaw) < 30 && abs(pose.Roll) < 30 && quality > 0.8
        }
    }

    /// The engine alone on real faces: pairwise precision and recall over the labelled faces
    /// and people found, against identities with 3 or more high-quality photos.
    func accuracy(_ path: String) throws {
        let faces = try LabelledFace.load(path)
        let photos = Dictionary(Set(faces.map(\.photo)).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let good = faces.map(\.highQuality)
        let clusterFaces = faces.indices.map { ClusterFace(photo: photos[faces[$0].photo]!, highQuality: good[$0], person: nil) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visage-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Self.clusterOnce(embeddings: faces.flatMap(\.emb), persons: Array(repeating: nil, count: faces.count),
                                  file: directory.appendingPathComponent("bench.faiss"), settings: .fromEnvironment(),
                                  clusterFaces: clusterFaces)
        let identities = Array(Set(faces.compactMap(\.identity))).sorted()
        let labelled = faces.indices.filter { faces[$0].identity != nil }
        func score(_ persons: [String?], among subset: [Int]? = nil) -> (Double, Double) {
            let scored = subset.map { Set($0) }.map { subset in labelled.filter(subset.contains) } ?? labelled
            return Self.pairwise(labels: scored.map { identities.firstIndex(of: faces[$0].identity!)! },
                                 placement: scored.map { persons[$0] })
        }
        let (precision, recall) = score(run.persons)
        var goodPhotos: [String: Set<String>] = [:]
        for index in labelled where good[index] { goodPhotos[faces[index].identity!, default: []].insert(faces[index].photo) }
        let name = URL(fileURLWithPath: path).lastPathComponent
        print(String(format: "%@: %d faces, pairwise precision %.3f recall %.3f, %d people for %d identities with 3+ good photos",
                     name, faces.count, precision, recall,
                     Set(run.persons.compactMap { $0 }).count, goodPhotos.values.filter { $0.count >= 3 }.count))

        // The same faces in two runs: every other photo first, then the rest added.
        let order = faces.indices.sorted { (photos[faces[$0].photo]! % 2, $0) < (photos[faces[$1].photo]! % 2, $1) }
        let firstCount = order.filter { photos[faces[$0].photo]! % 2 == 0 }.count
        let embeddings = order.flatMap { faces[$0].emb }
        let ordered = order.map { clusterFaces[$0] }
        let file = directory.appendingPathComponent("halves.faiss")
        let first = try Self.clusterOnce(embeddings: Array(embeddings.prefix(firstCount * 128)),
                                    persons: Array(repeating: nil, count: firstCount), file: file, settings: .fromEnvironment(),
                                    clusterFaces: Array(ordered.prefix(firstCount)))
        let both = try Self.clusterOnce(embeddings: embeddings, persons: first.persons + Array(repeating: nil, count: faces.count - firstCount),
                                   file: file, settings: .fromEnvironment(),
                                   clusterFaces: ordered.enumerated().map { index, face in
                                       ClusterFace(photo: face.photo, highQuality: face.highQuality,
                                                   person: index < firstCount ? first.persons[index] : nil)
                                   })
        var persons = [String?](repeating: nil, count: faces.count)
        for (index, face) in order.enumerated() where index < firstCount { persons[face] = first.persons[index] }
        let (halfPrecision, halfRecall) = score(persons, among: Array(order.prefix(firstCount)))
        print(String(format: "%@, half the photos: pairwise precision %.3f recall %.3f", name, halfPrecision, halfRecall))
        for (index, face) in order.enumerated() { persons[face] = both.persons[index] }
        let (incrementalPrecision, incrementalRecall) = score(persons)
        print(String(format: "%@ in two runs (half the photos, then the rest): pairwise precision %.3f recall %.3f, %d people",
                     name, incrementalPrecision, incrementalRecall, Set(persons.compactMap { $0 }).count))
    }

    /// Pairwise precision and recall of the placement against the centres (placed faces only
    /// count as grouped; sampled by centre to stay linear).
    static func pairwise(labels: [Int], placement: [String?]) -> (Double, Double) {
        var byCluster: [String: [Int: Int]] = [:], byLabel: [Int: Int] = [:]
        for (face, label) in labels.enumerated() {
            byLabel[label, default: 0] += 1
            if let cluster = placement[face] { byCluster[cluster, default: [:]][label, default: 0] += 1 }
        }
        func pairs(_ n: Int) -> Double { Double(n * (n - 1) / 2) }
        var truePairs = 0.0, clusterPairs = 0.0
        for counts in byCluster.values {
            clusterPairs += pairs(counts.values.reduce(0, +))
            truePairs += counts.values.map(pairs).reduce(0, +)
        }
        let labelPairs = byLabel.values.map(pairs).reduce(0, +)
        return (clusterPairs > 0 ? truePairs / clusterPairs : 1, labelPairs > 0 ? truePairs / labelPairs : 0)
    }

    static func peakMegabytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }
}

/// A small seeded generator (SplitMix64), so benchmark runs draw the same embeddings.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal draw (Box–Muller).
    mutating func normal() -> Float {
        let u1 = Double(next() >> 11) / Double(1 << 53), u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(max(u1, 1e-300))).squareRoot() * cos(2 * .pi * u2))
    }
}
