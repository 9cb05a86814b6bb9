import Foundation

/// Splits people whose faces break what a user said: two faces are two people, two people are
/// two people, or a face is not a person. Each conflict fixes its two sides, every other face
/// goes with the side it is nearer (`PersonSplit.separate`), and the parts are checked again
/// until none holds a conflict.
struct PeopleSeparation {
    /// The two sets of faces (positions) a group must not hold together, if any.
    typealias Conflict = (_ group: [Int]) -> (Set<Int>, Set<Int>)?

    let embeddings: [Float]
    let dimension: Int

    /// The parts of each group, largest first (a group without conflict is its own only part).
    func separate(_ groups: [[Int]], conflict: Conflict) -> [[[Int]]] {
        groups.map { group in
            var done: [[Int]] = []
            var pending = [group]
            while let next = pending.popLast() {
                // Each split fixes at least two faces apart, so a group of n faces splits at most n - 1 times.
                guard next.count > 1, let (left, right) = conflict(next) else { done.append(next); continue }
                var rows: [Float] = []
                rows.reserveCapacity(next.count * dimension)
                for face in next { rows += embeddings[face * dimension..<(face + 1) * dimension] }
                var sides: [Int: Int] = [:]
                for (index, face) in next.enumerated() {
                    if left.contains(face) { sides[index] = 0 } else if right.contains(face) { sides[index] = 1 }
                }
                let side = PersonSplit.separate(embeddings: rows, dimension: dimension, sides: sides)
                let parts = [0, 1].map { part in next.indices.filter { side[$0] == part }.map { next[$0] } }
                guard parts.allSatisfy({ !$0.isEmpty }) else { done.append(next); continue }
                pending += parts
            }
            return done.sorted { ($0.count, -($0.first ?? 0)) > ($1.count, -($1.first ?? 0)) }
        }
    }

    /// The conflicts users stated, for groups of faces of `snapshot` whose former people are `owners`.
    static func conflicts(_ snapshot: FaceSnapshot, owners: [String?]) -> Conflict {
        var partner: [Int: [Int]] = [:]
        for (a, b) in snapshot.apart {
            partner[a, default: []].append(b)
            partner[b, default: []].append(a)
        }
        let different = snapshot.differentPeople
        let excluded = snapshot.excluded
        return { group in
            let members = Set(group)
            for face in group {
                if let other = partner[face]?.first(where: members.contains) { return ([face], [other]) }
            }
            func faces(of person: String) -> Set<Int> { Set(group.filter { owners[$0] == person }) }
            for (a, b) in different {
                let (left, right) = (faces(of: a), faces(of: b))
                if !left.isEmpty && !right.isEmpty { return (left, right) }
            }
            for face in group {
                for person in excluded[face] ?? [] {
                    let theirs = faces(of: person).subtracting([face])
                    if !theirs.isEmpty { return ([face], theirs) }
                }
            }
            return nil
        }
    }
}
