import Foundation
import HeapModule

/// How faces are grouped into people. The defaults were chosen across three labelled sets
/// (mostly Western, and two East-Asian), each held out of the tuning in turn, for precision on
/// people nobody tuned for, with dlib's embedding (`Benchmarks/run-cross-set`, docs/people.md).
public struct ClusterSettings: Sendable, Equatable, Codable {
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
    /// Two groups of one person may join in the second round when the average distance across
    /// them is at most this many times their own average inner distance.
    public var fragmentLooseness: Float = 1.1
    /// Faces a group needs before the second round judges by its inner distance (a smaller group
    /// may only join a group that has one).
    public var fragmentFaces = 3
    /// How many of a face's nearest *other people's* faces measure how crowded its region is
    /// (0: one global distance everywhere). Other people are faces outside the face's core (its
    /// group at `densityCoreThreshold`), or outside the person it may join; a face whose
    /// neighbour list holds only its own core (a person with many photos) is not crowded.
    public var densityNeighbours = 20
    /// Where a face's mean distance to those faces is below this, its distances count as
    /// longer by the ratio (a pair by the geometric mean of its two faces' ratios): in a crowded
    /// region, where the embedding puts different people close, a merge needs closer faces.
    public var densityReference: Float = 0.6
    /// The most a distance may be lengthened for crowding.
    public var densityMaxScale: Float = 1.2
    /// Average-linkage distance of the cores: tight enough to hold one person on every test
    /// set, so that a face's core-mates are not mistaken for other people crowding it.
    public var densityCoreThreshold: Float = 0.4

    public init() {}

    enum CodingKeys: String, CodingKey {
        case threshold, attachThreshold, neighbours, rankOrderLimit, minImages, fragmentLooseness, fragmentFaces
        case densityNeighbours, densityReference, densityMaxScale, densityCoreThreshold
    }

    /// Decodes settings saved by any version: fields it lacks keep their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try container.decodeIfPresent(T.self, forKey: key) ?? fallback }
        let defaults = ClusterSettings()
        threshold = try value(.threshold, defaults.threshold)
        attachThreshold = try value(.attachThreshold, defaults.attachThreshold)
        neighbours = try value(.neighbours, defaults.neighbours)
        rankOrderLimit = try value(.rankOrderLimit, defaults.rankOrderLimit)
        minImages = try value(.minImages, defaults.minImages)
        fragmentLooseness = try value(.fragmentLooseness, defaults.fragmentLooseness)
        fragmentFaces = try value(.fragmentFaces, defaults.fragmentFaces)
        densityNeighbours = try value(.densityNeighbours, defaults.densityNeighbours)
        densityReference = try value(.densityReference, defaults.densityReference)
        densityMaxScale = try value(.densityMaxScale, defaults.densityMaxScale)
        densityCoreThreshold = try value(.densityCoreThreshold, defaults.densityCoreThreshold)
    }

    /// The settings, overridden by VISAGE_CLUSTER_THRESHOLD, VISAGE_CLUSTER_ATTACH_THRESHOLD,
    /// VISAGE_CLUSTER_LOOSENESS, VISAGE_CLUSTER_NEIGHBOURS and VISAGE_CLUSTER_DENSITY_NEIGHBOURS,
    /// _REFERENCE and _MAX_SCALE where set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ClusterSettings {
        var settings = ClusterSettings()
        if let value = environment["VISAGE_CLUSTER_THRESHOLD"].flatMap(Float.init) { settings.threshold = value }
        if let value = environment["VISAGE_CLUSTER_ATTACH_THRESHOLD"].flatMap(Float.init) { settings.attachThreshold = value }
        if let value = environment["VISAGE_CLUSTER_LOOSENESS"].flatMap(Float.init) { settings.fragmentLooseness = value }
        if let value = environment["VISAGE_CLUSTER_NEIGHBOURS"].flatMap(Int.init), value > 0 { settings.neighbours = value }
        if let value = environment["VISAGE_CLUSTER_DENSITY_NEIGHBOURS"].flatMap(Int.init), value >= 0 { settings.densityNeighbours = value }
        if let value = environment["VISAGE_CLUSTER_DENSITY_REFERENCE"].flatMap(Float.init), value > 0 { settings.densityReference = value }
        if let value = environment["VISAGE_CLUSTER_DENSITY_MAX_SCALE"].flatMap(Float.init), value >= 1 { settings.densityMaxScale = value }
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
    /// People a user said it is not: it never joins them.
    public let excluded: Set<String>
    /// Marks (any non-negative numbers) it shares with faces a user said are someone else:
    /// faces sharing a mark never share a person, as faces of one image do not.
    public let apart: [Int]

    public init(photo: Int, highQuality: Bool, person: String?, excluded: Set<String> = [], apart: [Int] = []) {
        self.photo = photo
        self.highQuality = highQuality
        self.person = person
        self.excluded = excluded
        self.apart = apart
    }

    /// Its image and its marks as one list of numbers (marks below zero, images from zero).
    var marks: [Int] { apart.isEmpty ? [photo] : [photo] + apart.map { -1 - $0 } }
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
/// far apart. A second round then joins groups that are pieces of one person with more faces
/// than a neighbour list holds (whose faces' lists each see only part of it, so the first
/// round's test fails between them): two groups join when the distance across them is about
/// the distance within them, which is not the case for look-alikes, whose pairs across are
/// clearly farther than those within. Candidate merges come from each face's nearest
/// neighbours, so the work grows with faces × neighbours rather than faces². Written here: no
/// library offers constrained average linkage over a sparse neighbour graph.
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

    /// Neighbour lists by face position (empty until loaded).
    private var lists: [[FaceNeighbour]]
    private var loaded: [Bool]
    /// How much longer each loaded face's distances count for the crowding of its region (1: not).
    private var scale: [Float]

    public init(settings: ClusterSettings, faces: [ClusterFace], embeddings: [Float], dimension: Int,
                neighbours: @escaping ([Int]) throws -> [[FaceNeighbour]]) {
        self.settings = settings
        self.faces = faces
        self.embeddings = embeddings
        self.dimension = dimension
        self.neighbourSource = neighbours
        lists = Array(repeating: [], count: faces.count)
        loaded = Array(repeating: false, count: faces.count)
        scale = Array(repeating: 1, count: faces.count)
    }

    /// Places every face that waits for a person. First waiting faces that belong to an
    /// existing person join it; then high-quality waiting faces that group over enough images
    /// found new people; then each other waiting face joins the person (old or new) its nearest
    /// placed neighbour belongs to, when that person is also the nearest on average, close
    /// enough, and has no face from the same image. The rest stay waiting.
    public mutating func place(progress: (Double) -> Void = { _ in }) throws -> [Int: ClusterPlacement] {
        let waiting = faces.indices.filter { faces[$0].person == nil }
        guard !waiting.isEmpty else { return [:] }
        try load(waiting)
        progress(0.3)

        // People as numbers: existing ones first (in name order), new ones after.
        let names = Array(Set(faces.compactMap(\.person))).sorted()
        let number = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var owner = faces.map { $0.person.map { number[$0]! } ?? -1 }
        var members = [[Int]](repeating: [], count: names.count)
        for (face, person) in owner.enumerated() where person >= 0 { members[person].append(face) }
        var photos = members.map { Set($0.flatMap { faces[$0].marks }) }

        let joined = try attach(waiting, owner: &owner, members: members, names: number, photos: &photos)
        let groups = found(waiting.filter { owner[$0] < 0 && faces[$0].highQuality })
        progress(0.7)
        for group in groups {
            for face in group { owner[face] = members.count }
            members.append(group)
            photos.append(Set(group.flatMap { faces[$0].marks }))
        }
        let attached = try attach(waiting.filter { owner[$0] < 0 }, owner: &owner, members: members, names: number, photos: &photos)
        progress(1)

        var placement: [Int: ClusterPlacement] = [:]
        for face in waiting where owner[face] >= 0 {
            let person = owner[face]
            placement[face] = person < names.count ? .existing(names[person]) : .new(person - names.count)
        }
        assert(placement.count == joined + attached + groups.reduce(0) { $0 + $1.count })
        return placement
    }

    /// Joins each of `candidates` to the person its nearest placed neighbour (from another image)
    /// belongs to, when the rank-order test passes, the person has no face from the same image
    /// and is the nearest on average among the people in the face's list, under the attach
    /// threshold; never a person the face is excluded from (`names` numbers the existing people).
    /// People are compared by the members given (not faces attached here, so the order of
    /// attachment does not matter). Returns how many joined.
    private mutating func attach(_ candidates: [Int], owner: inout [Int], members: [[Int]], names: [String: Int],
                                 photos: inout [Set<Int>]) throws -> Int {
        guard !members.isEmpty else { return 0 }
        // People each face may join: not those a user said it is not.
        let barred: [Int: Set<Int>] = names.isEmpty ? [:] : Dictionary(uniqueKeysWithValues: candidates.compactMap { face in
            faces[face].excluded.isEmpty ? nil : (face, Set(faces[face].excluded.compactMap { names[$0] }))
        })
        let nearest = candidates.map { face in
            lists[face].first { neighbour in
                owner[neighbour.face] >= 0 && !together(neighbour.face, face)
                    && !(barred[face]?.contains(owner[neighbour.face]) ?? false)
            }?.face
        }
        try load(nearest.compactMap { $0 })
        var decided: [(face: Int, person: Int)] = []
        var inner: [Int: Float] = [:]
        for (face, nearest) in zip(candidates, nearest) {
            guard let nearest else { continue }
            let person = owner[nearest]
            guard photos[person].isDisjoint(with: faces[face].marks) else { continue }
            let average = averageDistance(face, members[person])
            let crowding = densityScale(lists[face]) { owner[$0] == person || owner[$0] < 0 }
            guard average * crowding < settings.attachThreshold else { continue }
            // The neighbourhoods must agree, or, for a person bigger than a neighbour list
            // (where they cannot), the face must sit as close to the person as its members do.
            if rankOrder(face, nearest) >= settings.rankOrderLimit {
                guard members[person].count >= settings.fragmentFaces else { continue }
                if inner[person] == nil { inner[person] = innerAverage(members[person]) }
                guard average <= settings.fragmentLooseness * inner[person]! else { continue }
            }
            var others = Set(lists[face].map { owner[$0.face] })
            others.remove(person)
            others.remove(-1)
            others.subtract(barred[face] ?? [])
            guard !others.contains(where: { averageDistance(face, members[$0]) < average }) else { continue }
            decided.append((face, person))
            photos[person].formUnion(faces[face].marks)
        }
        for (face, person) in decided { owner[face] = person }
        return decided.count
    }

    private mutating func load(_ positions: [Int]) throws {
        let missing = Array(Set(positions.filter { !loaded[$0] })).sorted()
        guard !missing.isEmpty else { return }
        let found = try neighbourSource(missing)
        for (position, list) in zip(missing, found) {
            lists[position] = Array(list.filter { $0.face != position }.prefix(settings.neighbours))
            loaded[position] = true
        }
    }

    /// How much longer a face's distances count, from its mean distance to its nearest
    /// neighbours (self-tuning local scaling, Zelnik-Manor and Perona 2004, one-sided: a sparse
    /// region is not loosened, as the absolute threshold is already as loose as is safe).
    /// Faces of the list that `same` says are (likely) the face's own person are left out; a
    /// list with none left is not crowded.
    func densityScale(_ list: [FaceNeighbour], same: (Int) -> Bool) -> Float {
        guard settings.densityNeighbours > 0 else { return 1 }
        var sum: Float = 0, taken = 0
        for neighbour in list where !same(neighbour.face) {
            sum += neighbour.distance
            taken += 1
            if taken == settings.densityNeighbours { break }
        }
        guard taken > 0 else { return 1 }
        return min(settings.densityMaxScale, max(1, settings.densityReference / max(sum / Float(taken), 1e-6)))
    }

    /// A pair's distance lengthened for the crowding of both faces' regions (geometric mean).
    func scaledDistance(_ a: Int, _ b: Int) -> Float {
        let factor = scale[a] == 1 && scale[b] == 1 ? 1 : (scale[a] * scale[b]).squareRoot()
        return distance(a, b) * factor
    }

    /// Whether two faces may never share a person: one image, or a mark in common.
    func together(_ a: Int, _ b: Int) -> Bool {
        faces[a].photo == faces[b].photo || (!faces[a].apart.isEmpty && !Set(faces[a].apart).isDisjoint(with: faces[b].apart))
    }

    /// Approximate rank-order distance of two faces from their neighbour lists; a face outside
    /// the other's list counts as ranked just past its end.
    func rankOrder(_ a: Int, _ b: Int) -> Float {
        let listA = lists[a], listB = lists[b]
        let k = settings.neighbours
        func contains(_ list: [FaceNeighbour], _ face: Int) -> Bool { list.contains { $0.face == face } }
        let rankA = (listA.firstIndex { $0.face == b }.map { $0 + 1 }) ?? k + 1
        let rankB = (listB.firstIndex { $0.face == a }.map { $0 + 1 }) ?? k + 1
        // Faces among a's first neighbours (up to b, a itself included) that b's list lacks, and back.
        var fromA = contains(listB, a) ? 0 : 1, fromB = contains(listA, b) ? 0 : 1
        for x in listA.prefix(min(rankA, k)) where x.face != b && !contains(listB, x.face) { fromA += 1 }
        for x in listB.prefix(min(rankB, k)) where x.face != a && !contains(listA, x.face) { fromB += 1 }
        return Float(fromA + fromB) / Float(max(min(rankA, rankB), 1))
    }

    /// Euclidean distance of two faces' embeddings, eight lanes at a time.
    func distance(_ a: Int, _ b: Int) -> Float {
        embeddings.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let stride = MemoryLayout<Float>.stride
            var lanes = SIMD8<Float>()
            var index = 0
            while index + 8 <= dimension {
                let x = base.loadUnaligned(fromByteOffset: (a * dimension + index) * stride, as: SIMD8<Float>.self)
                let y = base.loadUnaligned(fromByteOffset: (b * dimension + index) * stride, as: SIMD8<Float>.self)
                let difference = x - y
                lanes += difference * difference
                index += 8
            }
            var sum = lanes.sum()
            while index < dimension {
                let difference = buffer[a * dimension + index] - buffer[b * dimension + index]
                sum += difference * difference
                index += 1
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

    /// Average distance between a person's members (at most 64 of them, evenly spread).
    func innerAverage(_ members: [Int]) -> Float {
        let step = max(1, members.count / 64)
        let sample = stride(from: 0, to: members.count, by: step).map { members[$0] }
        guard sample.count > 1 else { return 0 }
        var sum: Float = 0
        for i in sample.indices { for j in sample.indices where j > i { sum += distance(sample[i], sample[j]) } }
        return sum / Float(sample.count * (sample.count - 1) / 2)
    }

    /// Sum of the distances (lengthened for crowding when `scaled`) over all pairs across two groups of faces.
    func crossSum(_ x: [Int], _ y: [Int], scaled: Bool = false) -> Float {
        var sum: Float = 0
        for p in x { for q in y { sum += scaled ? scaledDistance(p, q) : distance(p, q) } }
        return sum
    }

    /// Groups the given high-quality faces in two rounds of constrained average linkage (see
    /// the type's comment); groups spanning `minImages` images are returned, each sorted, in
    /// the order of their first face.
    mutating func found(_ candidates: [Int]) -> [[Int]] {
        guard !candidates.isEmpty else { return [] }
        // Round 1: faces are the nodes; a pair failing the rank-order test counts as far apart.
        var node = [Int](repeating: -1, count: faces.count)
        for (index, face) in candidates.enumerated() { node[face] = index }
        if settings.densityNeighbours > 0 {
            // Cores: tight groups of one person each; a face's crowding is measured on its
            // neighbours outside its core.
            var coreEdges: [(Int, Int, Float)] = []
            for (index, a) in candidates.enumerated() {
                for neighbour in lists[a] where node[neighbour.face] >= 0 && neighbour.distance < settings.densityCoreThreshold {
                    guard !together(a, neighbour.face) else { continue }
                    coreEdges.append((index, node[neighbour.face], neighbour.distance))
                }
            }
            var core = [Int](repeating: -1, count: faces.count)
            let cores = agglomerate(candidates.map { [$0] }, edges: coreEdges, within: nil, scaled: false,
                                    threshold: settings.densityCoreThreshold)
            for (index, group) in cores.enumerated() { for face in group { core[face] = index } }
            for a in candidates { scale[a] = densityScale(lists[a]) { core[$0] == core[a] } }
        }
        var edges: [(Int, Int, Float)] = []
        for (index, a) in candidates.enumerated() {
            for neighbour in lists[a] where node[neighbour.face] >= 0 && neighbour.distance < settings.threshold {
                let b = neighbour.face
                guard !together(a, b), a < b || !lists[b].contains(where: { $0.face == a }) else { continue }
                let near = scaledDistance(a, b)
                guard near < settings.threshold else { continue }
                let gated = rankOrder(a, b) >= settings.rankOrderLimit
                edges.append((index, node[b], gated ? Self.farApart : near))
            }
        }
        let firstRound = agglomerate(candidates.map { [$0] }, edges: edges, within: nil, scaled: true, threshold: settings.threshold)

        // Round 2: groups are the nodes, joined when the distance across is about that within.
        for (index, group) in firstRound.enumerated() { for face in group { node[face] = index } }
        var pieces: [(Int, Int, Float)] = []
        var seen: Set<Int> = []
        for (index, group) in firstRound.enumerated() {
            for face in group {
                for neighbour in lists[face] where neighbour.distance < settings.threshold && node[neighbour.face] >= 0 {
                    let other = node[neighbour.face]
                    guard other != index, max(group.count, firstRound[other].count) >= settings.fragmentFaces,
                          seen.insert(min(index, other) * firstRound.count + max(index, other)).inserted else { continue }
                    pieces.append((index, other, crossSum(group, firstRound[other])))
                }
            }
        }
        let within = firstRound.map { group in
            var sum: Float = 0
            for i in group.indices { for j in group.indices where j > i { sum += distance(group[i], group[j]) } }
            return sum
        }
        return agglomerate(firstRound, edges: pieces, within: within, scaled: false, threshold: settings.threshold)
            .filter { Set($0.map { faces[$0].photo }).count >= settings.minImages }
            .map { $0.sorted() }
            .sorted { $0[0] < $1[0] }
    }

    /// Average-linkage merging of nodes (groups of faces) along `edges` (node pairs with the sum
    /// of face distances across them), the closest pair first while its average is under the
    /// threshold, never joining two nodes that share an image. With `within` (each node's sum of
    /// inner distances), a merge also needs the average across to stay within
    /// `fragmentLooseness` of the two nodes' average inner distances. Sums to nodes that were
    /// not adjacent are computed from the faces when a merge needs them.
    func agglomerate(_ nodes: [[Int]], edges: [(Int, Int, Float)], within initialWithin: [Float]?, scaled: Bool,
                     threshold: Float) -> [[Int]] {
        var members = nodes
        var photos = nodes.map { Set($0.flatMap { faces[$0].marks }) }
        var within = initialWithin ?? []
        var adjacent = [[Int: Float]](repeating: [:], count: nodes.count)
        var version = [Int](repeating: 0, count: nodes.count)
        var heap = Heap<Candidate>()

        func innerAverage(_ node: Int) -> Float {
            let n = Float(members[node].count)
            return within[node] / (n * (n - 1) / 2)
        }
        func consider(_ a: Int, _ b: Int, _ sum: Float) {
            let average = sum / Float(members[a].count * members[b].count)
            guard average < threshold, photos[a].isDisjoint(with: photos[b]) else { return }
            if initialWithin != nil {
                // Judged on the inner distances of the sides big enough to have a meaningful one.
                let inner = [a, b].filter { members[$0].count >= settings.fragmentFaces }.map(innerAverage)
                guard !inner.isEmpty, average <= settings.fragmentLooseness * inner.reduce(0, +) / Float(inner.count)
                else { return }
            }
            let (low, high) = (min(a, b), max(a, b))
            heap.insert(Candidate(distance: average, a: low, b: high, versionA: version[low], versionB: version[high]))
        }
        for (a, b, sum) in edges where a != b && adjacent[a][b] == nil {
            adjacent[a][b] = sum
            adjacent[b][a] = sum
            consider(a, b, sum)
        }
        while let best = heap.popMin() {
            let (a, b) = (best.a, best.b)
            guard version[a] == best.versionA, version[b] == best.versionB, let cross = adjacent[a][b] else { continue }
            // b joins a; every node next to either gets its sum to the union.
            var sums: [Int: Float] = [:]
            for (c, sum) in adjacent[a] where c != b {
                sums[c] = sum + (adjacent[b][c] ?? crossSum(members[b], members[c], scaled: scaled))
            }
            for (c, sum) in adjacent[b] where c != a && sums[c] == nil { sums[c] = sum + crossSum(members[a], members[c], scaled: scaled) }
            for c in adjacent[b].keys { adjacent[c][b] = nil }
            members[a] += members[b]
            members[b] = []
            photos[a].formUnion(photos[b])
            photos[b] = []
            if !within.isEmpty { within[a] += within[b] + cross }
            adjacent[b] = [:]
            version[a] += 1
            version[b] += 1
            adjacent[a] = sums
            for (c, sum) in sums {
                adjacent[c][a] = sum
                consider(a, c, sum)
            }
        }
        return members.filter { !$0.isEmpty }
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
