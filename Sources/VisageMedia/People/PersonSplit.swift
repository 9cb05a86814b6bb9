import Foundation

/// A proposed split of one person's faces in two, from the structure of their embeddings: two
/// groups by 2-means (seeded from the two faces farthest apart along the person's spread),
/// proposed only when the groups are clearly farther apart across than within, as two
/// look-alike people merged into one are and one person's faces are not. Written here: a
/// two-way split of a few hundred vectors needs no library.
public struct PersonSplit: Sendable, Equatable {
    /// Positions (in the given faces) of the smaller group: the faces to split off.
    public let faces: [Int]
    /// Average distance across the two groups over the average distance within them.
    public let separation: Float

    /// The split of `count` faces (row-major `embeddings`, `dimension` wide), or nil when there
    /// is none worth proposing: fewer than 4 faces, a group of one, or a separation under `looseness`.
    public static func propose(embeddings: [Float], dimension: Int, looseness: Float = ClusterSettings().fragmentLooseness)
        -> PersonSplit? {
        let count = embeddings.count / max(dimension, 1)
        guard count >= 4 else { return nil }
        let space = Space(embeddings: embeddings, dimension: dimension)
        // Seeds: the face farthest from the centre, then the face farthest from that one.
        let centre = space.mean(Array(0..<count))
        let first = (0..<count).max { space.distance(space.row($0), centre[...]) < space.distance(space.row($1), centre[...]) }!
        let second = (0..<count).max { space.distance(space.row($0), space.row(first)) < space.distance(space.row($1), space.row(first)) }!
        guard let side = space.twoMeans(centres: [Array(space.row(first)), Array(space.row(second))], fixed: [:]) else { return nil }
        func row(_ index: Int) -> ArraySlice<Float> { space.row(index) }
        func distance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float { space.distance(a, b) }
        let groups = [side.indices.filter { side[$0] == 0 }, side.indices.filter { side[$0] == 1 }]
        guard groups.allSatisfy({ $0.count >= 2 }) else { return nil }
        func average(_ pairs: [(Int, Int)]) -> Float {
            pairs.reduce(Float(0)) { $0 + distance(row($1.0), row($1.1)) } / Float(max(pairs.count, 1))
        }
        let within = groups.map { group in
            average(group.indices.flatMap { i in group.indices.filter { $0 > i }.map { (group[i], group[$0]) } })
        }
        let across = average(groups[0].flatMap { a in groups[1].map { (a, $0) } })
        let separation = across / ((within[0] + within[1]) / 2)
        guard separation > looseness else { return nil }
        return PersonSplit(faces: groups.min { ($0.count, $0[0]) < ($1.count, $1[0]) }!, separation: separation)
    }

    /// Two sides for faces a user said belong to two people: the faces in `sides` (position →
    /// 0 or 1) stay on their side, every other face goes with the side whose centre it is
    /// nearer, by 2-means from the centres of the fixed faces. Returns a side per face.
    public static func separate(embeddings: [Float], dimension: Int, sides: [Int: Int]) -> [Int] {
        let space = Space(embeddings: embeddings, dimension: dimension)
        let centres = [0, 1].map { side in space.mean(sides.filter { $0.value == side }.map(\.key)) }
        let count = embeddings.count / max(dimension, 1)
        return space.twoMeans(centres: centres, fixed: sides) ?? (0..<count).map { sides[$0] ?? 0 }
    }

    /// Row-major embeddings and the arithmetic the splits need.
    struct Space {
        let embeddings: [Float]
        let dimension: Int

        var count: Int { embeddings.count / max(dimension, 1) }
        func row(_ index: Int) -> ArraySlice<Float> { embeddings[index * dimension..<(index + 1) * dimension] }
        func distance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
            zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        }
        func mean(_ members: [Int]) -> [Float] {
            var sum = [Float](repeating: 0, count: dimension)
            for member in members { for (d, value) in row(member).enumerated() { sum[d] += value } }
            return sum.map { $0 / Float(max(members.count, 1)) }
        }

        /// 2-means from two centres; faces in `fixed` keep their side. Nil when a side empties.
        func twoMeans(centres initial: [[Float]], fixed: [Int: Int]) -> [Int]? {
            var centres = initial
            var side = [Int](repeating: -1, count: count)
            for _ in 0..<20 {
                let next = (0..<count).map { fixed[$0] ?? (distance(row($0), centres[0][...]) <= distance(row($0), centres[1][...]) ? 0 : 1) }
                let groups = [next.indices.filter { next[$0] == 0 }, next.indices.filter { next[$0] == 1 }]
                guard groups.allSatisfy({ !$0.isEmpty }) else { return nil }
                if next == side { break }
                side = next
                centres = groups.map(mean)
            }
            return side
        }
    }
}
