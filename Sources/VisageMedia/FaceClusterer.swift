import Foundation
import HeapModule

/// How faces are grouped into people. The defaults were chosen for precision on both test sets
/// (mostly Western and East-Asian faces) with dlib's embedding; see docs/people.md.
public struct ClusterSettings: Sendable, Equatable {
    /// Average-linkage distance under which groups of high-quality faces merge.
    public var threshold: Float = 0.5
    /// Average distance to a person under which another face may join that person.
    public var attachThreshold: Float = 0.525
    /// Neighbours per face for the rank-order test (and the candidate merges).
    public var neighbours = 20
    /// Two faces count as near only when their rank-order distance is below this.
    public var rankOrderLimit: Float = 1.5
    /// Images with high-quality faces a group needs to become a person (the seed's rule).
    public var minImages = 3

    public init() {}

    /// The settings, overridden by VISAGE_CLUSTER_THRESHOLD, VISAGE_CLUSTER_ATTACH_THRESHOLD and
    /// VISAGE_CLUSTER_NEIGHBOURS where set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ClusterSettings {
        var settings = ClusterSettings()
        if let value = environment["VISAGE_CLUSTER_THRESHOLD"].flatMap(Float.init) { settings.threshold = value }
        if let value = environment["VISAGE_CLUSTER_ATTACH_THRESHOLD"].flatMap(Float.init) { settings.attachThreshold = value }
        if let value = environment["VISAGE_CLUSTER_NEIGHBOURS"].flatMap(Int.init), value > 0 { settings.neighbours = value }
        return settings
    }
}

/// A face as the clusterer sees it.
public struct ClusterFace: Sendable {
    /// The image it was found in: two faces of one image never share a person.
    public let photo: Int
    public let highQuality: Bool
    /// The person it already belongs to, or nil when it waits for a person.
    public let person: String?

    public init(photo: Int, highQuality: Bool, person: String?) {
        self.photo = photo
        self.highQuality = highQuality
        self.person = person
    }
}

/// A face's neighbour: its position in the face list and its Euclidean distance.
public struct FaceNeighbour: Sendable, Equatable {
    public let face: Int
    public let distance: Float

    public init(face: Int, distance: Float) {
        self.face = face
        self.distance = distance
    }
}

/// Where a waiting face went.
public enum ClusterPlacement: Sendable, Hashable {
    case existing(String)
    /// A new person, numbered from 0 in the order of their smallest face position.
    case new(Int)
}

/// Groups faces into people, built to stay precise when the embedding separates faces poorly.
/// Chaining clusterers (chinese whispers, DBSCAN) join two people through one close pair of
/// faces; here a merge must hold on average over all pairs of the two groups (average
/// linkage), and a pair of faces only counts as near when their neighbourhoods agree
/// (approximate rank-order distance, Otto et al. 2018); a pair that fails that test counts as
/// far apart. Candidate merges come from each face's nearest neighbours, so the work grows with
/// faces × neighbours rather than faces². Written here: no library offers constrained
/// average linkage over a sparse neighbour graph.
public struct FaceClusterer {
    public let settings: ClusterSettings
    let faces: [ClusterFace]
    /// Row-major embeddings, one row per face.
    let embeddings: [Float]
    let dimension: Int
    /// The nearest neighbours of the faces asked for (positions), nearest first, excluding the face itself.
    let neighbourSource: ([Int]) throws -> [[FaceNeighbour]]

    /// The distance a pair failing the rank-order test counts as.
    static let farApart: Float = 9

    private var lists: [Int: [FaceNeighbour]] = [:]

    public init(settings: ClusterSettings, faces: [ClusterFace], embeddings: [Float], dimension: Int,
                neighbours: @escaping ([Int]) throws -> [[FaceNeighbour]]) {
        self.settings = settings
        self.faces = faces
        self.embeddings = embeddings
        self.dimension = dimension
        self.neighbourSource = neighbours
    }

    /// Places every face that waits for a person: high-quality waiting faces that group over
    /// enough images found new people; then each other waiting face joins the person its
    /// nearest placed neighbour belongs to, when that person is also the nearest on average,
    /// close enough, and has no face from the same image. The rest stay waiting.
    public mutating func place(progress: (Double) -> Void = { _ in }) throws -> [Int: ClusterPlacement] {
        let waiting = faces.indices.filter { faces[$0].person == nil }
        guard !waiting.isEmpty else { return [:] }
        try load(waiting)
        progress(0.3)
        var placement: [Int: ClusterPlacement] = [:]
        let groups = found(waiting.filter { faces[$0].highQuality })
        for (number, group) in groups.enumerated() {
            for face in group { placement[face] = .new(number) }
        }
        progress(0.7)

        // Members each person is compared against: existing members and founders, not faces
        // attached in this run (so the order of attachment does not matter).
        var members: [ClusterPlacement: [Int]] = [:]
        for (index, face) in faces.enumerated() {
            if let person = face.person { members[.existing(person), default: []].append(index) }
        }
        for (face, person) in placement { members[person, default: []].append(face) }
        var photos: [ClusterPlacement: Set<Int>] = members.mapValues { Set($0.map { faces[$0].photo }) }
        func owner(_ face: Int) -> ClusterPlacement? {
            faces[face].person.map(ClusterPlacement.existing) ?? placement[face]
        }
        let rest = waiting.filter { placement[$0] == nil }
        let nearestPlaced: [Int: Int] = Dictionary(uniqueKeysWithValues: rest.compactMap { face in
            lists[face]?.first { owner($0.face) != nil && faces[$0.face].photo != faces[face].photo }.map { (face, $0.face) }
        })
        try load(Array(Set(nearestPlaced.values)))
        var attached: [Int: ClusterPlacement] = [:]
        for face in rest {
            guard let nearest = nearestPlaced[face], let person = owner(nearest),
                  rankOrder(face, nearest) < settings.rankOrderLimit,
                  !(photos[person]?.contains(faces[face].photo) ?? false)
            else { continue }
            let candidates = Set(lists[face, default: []].compactMap { owner($0.face) })
            let averages = candidates.map { ($0, averageDistance(face, members[$0] ?? [])) }
            guard let best = averages.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && "\($0.0)" < "\($1.0)") }),
                  best.0 == person, best.1 < settings.attachThreshold
            else { continue }
            attached[face] = person
            photos[person, default: []].insert(faces[face].photo)
        }
        placement.merge(attached) { first, _ in first }
        progress(1)
        return placement
    }

    private mutating func load(_ positions: [Int]) throws {
        let missing = positions.filter { lists[$0] == nil }
        guard !missing.isEmpty else { return }
        let found = try neighbourSource(missing)
        for (position, list) in zip(missing, found) {
            lists[position] = Array(list.filter { $0.face != position }.prefix(settings.neighbours))
        }
    }

    /// Approximate rank-order distance of two faces from their neighbour lists; a face outside
    /// the other's list counts as ranked just past its end.
    func rankOrder(_ a: Int, _ b: Int) -> Float {
        let listA = lists[a, default: []].map(\.face), listB = lists[b, default: []].map(\.face)
        let k = settings.neighbours
        let rankA = (listA.firstIndex(of: b).map { $0 + 1 }) ?? k + 1
        let rankB = (listB.firstIndex(of: a).map { $0 + 1 }) ?? k + 1
        let topA = Set(listA).union([a]), topB = Set(listB).union([b])
        let fromA = ([a] + listA.prefix(min(rankA, k))).filter { !topB.contains($0) }.count
        let fromB = ([b] + listB.prefix(min(rankB, k))).filter { !topA.contains($0) }.count
        return Float(fromA + fromB) / Float(max(min(rankA, rankB), 1))
    }

    func distance(_ a: Int, _ b: Int) -> Float {
        embeddings.withUnsafeBufferPointer { buffer in
            var sum: Float = 0
            let rowA = a * dimension, rowB = b * dimension
            for index in 0..<dimension {
                let difference = buffer[rowA + index] - buffer[rowB + index]
                sum += difference * difference
            }
            return sum.squareRoot()
        }
    }

    /// Average distance from a face to a person's members (at most 64 of them, evenly spread,
    /// so very large people stay cheap).
    func averageDistance(_ face: Int, _ members: [Int]) -> Float {
        guard !members.isEmpty else { return .infinity }
        let step = max(1, members.count / 64)
        var sum: Float = 0, count: Float = 0
        for index in stride(from: 0, to: members.count, by: step) {
            sum += distance(face, members[index])
            count += 1
        }
        return sum / count
    }

    /// Average-linkage merging of the given faces over their neighbour graph, never joining two
    /// groups that share an image; groups spanning `minImages` images are returned, each
    /// sorted, in the order of their first face.
    func found(_ candidates: [Int]) -> [[Int]] {
        let inSet = Set(candidates)
        var gated: Set<Pair> = []
        for a in candidates {
            for neighbour in lists[a, default: []] where inSet.contains(neighbour.face) && neighbour.distance < settings.threshold {
                if rankOrder(a, neighbour.face) >= settings.rankOrderLimit { gated.insert(Pair(a, neighbour.face)) }
            }
        }
        func pairDistance(_ a: Int, _ b: Int) -> Float {
            gated.contains(Pair(a, b)) ? Self.farApart : distance(a, b)
        }

        var members: [Int: [Int]] = Dictionary(uniqueKeysWithValues: candidates.map { ($0, [$0]) })
        var photos: [Int: Set<Int>] = Dictionary(uniqueKeysWithValues: candidates.map { ($0, [faces[$0].photo]) })
        var adjacent: [Int: Set<Int>] = [:]
        var sums: [Pair: Float] = [:]
        var heap = Heap<Candidate>()
        var version: [Int: Int] = [:]
        for a in candidates {
            for neighbour in lists[a, default: []] where inSet.contains(neighbour.face) && neighbour.distance < settings.threshold {
                let b = neighbour.face
                guard faces[a].photo != faces[b].photo, !adjacent[a, default: []].contains(b) else { continue }
                adjacent[a, default: []].insert(b)
                adjacent[b, default: []].insert(a)
                let d = pairDistance(a, b)
                sums[Pair(a, b)] = d
                heap.insert(Candidate(distance: d, a: min(a, b), b: max(a, b), versionA: 0, versionB: 0))
            }
        }
        func crossSum(_ x: Int, _ y: Int) -> Float {
            if let known = sums[Pair(x, y)] { return known }
            var sum: Float = 0
            for p in members[x]! { for q in members[y]! { sum += pairDistance(p, q) } }
            return sum
        }
        while let best = heap.popMin() {
            guard best.distance < settings.threshold else { break }
            let (a, b) = (best.a, best.b)
            guard members[a] != nil, members[b] != nil, version[a, default: 0] == best.versionA,
                  version[b, default: 0] == best.versionB
            else { continue }
            guard photos[a]!.isDisjoint(with: photos[b]!) else { continue }
            // b joins a; every group next to either gets its linkage to the union recomputed.
            let neighbours = adjacent[a, default: []].union(adjacent[b, default: []]).subtracting([a, b])
            var newSums: [Int: Float] = [:]
            for c in neighbours { newSums[c] = crossSum(a, c) + crossSum(b, c) }
            for c in adjacent[b, default: []] {
                adjacent[c]?.remove(b)
                sums[Pair(b, c)] = nil
            }
            for c in adjacent[a, default: []] { sums[Pair(a, c)] = nil }
            members[a]! += members[b]!
            photos[a]!.formUnion(photos[b]!)
            members[b] = nil
            photos[b] = nil
            adjacent[b] = nil
            sums[Pair(a, b)] = nil
            version[a, default: 0] += 1
            adjacent[a] = neighbours
            let sizeA = Float(members[a]!.count)
            for (c, sum) in newSums {
                adjacent[c, default: []].insert(a)
                sums[Pair(a, c)] = sum
                let average = sum / (sizeA * Float(members[c]!.count))
                guard average < settings.threshold, photos[a]!.isDisjoint(with: photos[c]!) else { continue }
                let (low, high) = (min(a, c), max(a, c))
                heap.insert(Candidate(distance: average, a: low, b: high, versionA: version[low, default: 0],
                                      versionB: version[high, default: 0]))
            }
        }
        return members.values
            .filter { Set($0.map { faces[$0].photo }).count >= settings.minImages }
            .map { $0.sorted() }
            .sorted { $0[0] < $1[0] }
    }

    /// An unordered pair of face or group positions.
    struct Pair: Hashable {
        let low: Int
        let high: Int
        init(_ a: Int, _ b: Int) {
            low = min(a, b)
            high = max(a, b)
        }
    }

    struct Candidate: Comparable {
        let distance: Float
        let a: Int
        let b: Int
        let versionA: Int
        let versionB: Int

        static func < (lhs: Candidate, rhs: Candidate) -> Bool {
            (lhs.distance, lhs.a, lhs.b) < (rhs.distance, rhs.a, rhs.b)
        }
    }
}
