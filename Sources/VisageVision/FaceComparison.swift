import Foundation

/// How alike two faces are, from the Euclidean distance of their dlib embeddings, optionally
/// judged against a cohort of other people's faces.
///
/// The dlib embedding packs some populations tighter than others: on the East-Asian test set
/// different people sit about as close as the same person does on the Western set, so no single
/// distance gives both high accuracy on one set and rare false accepts on the other
/// (BENCHMARKS.md). A cohort fixes the scale per face: a pair is the same person only when it is
/// close in absolute terms *and* clearly closer than either face is to other people.
public enum FaceComparison {
    /// Without a cohort, below this distance two faces are one person. Chosen for rare false
    /// accepts on both test sets (none on the Western set, 4.5% on the East-Asian set), at the
    /// cost of accepting only about 80% of same-person pairs.
    public static let samePersonDistance = 0.45
    /// With a cohort, the distance must stay below this absolute ceiling...
    public static let cohortDistanceCeiling = 0.55
    /// ...and below this share of the faces' typical distance to other people.
    public static let cohortRelativeLimit = 0.925
    /// How many nearest cohort faces make a face's typical distance to other people.
    public static let cohortNeighbours = 10

    public static func distance(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "embeddings of different sizes")
        var sum: Float = 0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return Double(sum).squareRoot()
    }

    /// Decision score of a pair: below 1 means the same person. Without a cohort it is the
    /// distance over `samePersonDistance`; with one, the larger of the distance over the ceiling
    /// and the distance over `cohortRelativeLimit` times the pair's typical cohort distance.
    public static func score(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Double {
        let d = distance(a, b)
        guard let cohort, let typical = cohort.typicalDistance(a, b) else { return d / samePersonDistance }
        return score(distance: d, typical: typical)
    }

    /// The cohort score from a pair's distance and its typical distance to other people.
    public static func score(distance d: Double, typical: Double) -> Double {
        max(d / cohortDistanceCeiling, d / (cohortRelativeLimit * typical))
    }

    /// Similarity in [0, 1] from a decision score: 0.5 at the same-person boundary, 1 for
    /// identical embeddings (a logistic, steep enough to span the useful range of scores).
    public static func similarity(score: Double) -> Double {
        1 / (1 + exp((score - 1) * 7))
    }

    public static func similarity(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Double {
        similarity(score: score(a, b, cohort: cohort))
    }

    public static func samePerson(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Bool {
        score(a, b, cohort: cohort) < 1
    }
}

/// Faces of people other than the two being compared (for instance the rest of a photo
/// collection), each with a label naming its person so a comparison can leave out the faces of
/// the two people it is about.
public struct Cohort: Sendable {
    public let members: [(label: String, embedding: [Float])]

    public init(_ members: [(label: String, embedding: [Float])]) {
        self.members = members
    }

    /// The mean distance from `face` to its `FaceComparison.cohortNeighbours` nearest cohort
    /// faces, skipping faces labelled with any of `excluded`; nil when too few remain.
    public func typicalDistance(of face: [Float], excluding excluded: Set<String> = []) -> Double? {
        Cohort.typicalDistance(among: neighbours(of: face), excluding: excluded)
    }

    /// Every cohort face's distance to `face`, nearest first.
    public func neighbours(of face: [Float]) -> [(distance: Double, label: String)] {
        members.map { (FaceComparison.distance(face, $0.embedding), $0.label) }.sorted { $0.distance < $1.distance }
    }

    /// The typical distance from a face's sorted neighbour list, leaving out `excluded` labels.
    public static func typicalDistance(among neighbours: [(distance: Double, label: String)],
                                       excluding excluded: Set<String>) -> Double? {
        var sum = 0.0
        var taken = 0
        for neighbour in neighbours where !excluded.contains(neighbour.label) {
            sum += neighbour.distance
            taken += 1
            if taken == FaceComparison.cohortNeighbours { return sum / Double(taken) }
        }
        return nil
    }

    /// The mean of both faces' typical distances.
    public func typicalDistance(_ a: [Float], _ b: [Float], excluding excluded: Set<String> = []) -> Double? {
        guard let ta = typicalDistance(of: a, excluding: excluded), let tb = typicalDistance(of: b, excluding: excluded)
        else { return nil }
        return (ta + tb) / 2
    }
}
