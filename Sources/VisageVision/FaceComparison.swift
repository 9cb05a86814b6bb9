import Foundation

/// How alike two faces are, from the Euclidean distance of their dlib embeddings, optionally
/// judged against a cohort of other people's faces.
///
/// The dlib embedding packs some populations tighter than others: on the East-Asian test set
/// different people sit about as close as the same person does on the Western set, so no single
/// distance gives both high accuracy on one set and rare false accepts on the other
/// (BENCHMARKS.md). A cohort of other people fixes the scale: a pair is the same person when it is
/// close in absolute terms *and* its distance is a small enough share of how far the two faces are
/// from other people on average *and* from the few people nearest them.
///
/// The average is the mean over the cohort's people, each weighted alike, rather than over the
/// nearest few cohort faces: a mean does not depend on how many people the cohort holds or how many
/// photos each has, so one threshold means about the same false-accept rate on collections of
/// different sizes. (A nearest-ten-faces rule did not: tuned on two labelled sets, its threshold
/// accepted 1.46% of different-person pairs on a third with fewer people.) A mean over a cohort
/// that mixes populations is large for faces of a tightly packed one, though, so the nearest
/// people bound the score too: look-alikes stay apart in a mixed collection.
public enum FaceComparison {
    /// Without a cohort, below this distance two faces are one person. Chosen for rare false
    /// accepts on both test sets (none on the Western set, 4.5% on the East-Asian set), at the
    /// cost of accepting only about 80% of same-person pairs.
    public static let samePersonDistance = 0.45
    /// With a cohort, two faces are one person when their distance stays below this ceiling...
    public static let cohortDistanceCeiling = 0.55
    /// ...and below this share of the pair's typical distance to other people...
    public static let cohortRelativeLimit = 0.75
    /// ...and below this share of the pair's distance to the people nearest them. The three were
    /// tuned on two labelled sets and measured on the third, each in turn (`visage bench
    /// cross-set`, BENCHMARKS.md): every fold chose the ceiling 0.55 and a share of 0.7525; 0.75,
    /// one step tighter, is what the fold holding out the set that came out worst
    /// (`faces-east-asia`, at the edge of 1% false accepts) chose on the embeddings before the
    /// network ran on OpenVINO. Two folds chose 0.85 for the nearest people and that one 0.90,
    /// which gives it the same figures.
    public static let cohortNearestLimit = 0.85
    /// How many nearest cohort people make a face's distance to the people nearest it (fixed, not
    /// tuned per fold).
    public static let cohortNearestPeople = 5
    /// The fewest cohort faces (after leaving out the two people compared) a judgement uses.
    public static let cohortMinimumFaces = 10
    /// In a collection that may hold the two compared people themselves (a project's people),
    /// a person this close on average to either face is taken to be that face's person and left
    /// out, as the two people compared are left out of any cohort. The clusterer's core distance
    /// (one person on every test set), not tuned for this.
    public static let cohortOwnPersonDistance = 0.4

    public static func distance(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "embeddings of different sizes")
        var sum: Float = 0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return Double(sum).squareRoot()
    }

    /// Decision score of a pair: below 1 means the same person. Without a cohort (or with too
    /// small a one) it is the distance over `samePersonDistance`; with one, the largest of the
    /// distance over the ceiling, over `cohortRelativeLimit` times the pair's typical distance to
    /// the cohort, and over `cohortNearestLimit` times its distance to the people nearest it.
    public static func score(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Double {
        let d = distance(a, b)
        guard let cohort, let typical = cohort.typicalDistance(a, b) else { return d / samePersonDistance }
        return score(distance: d, typical: typical)
    }

    /// The cohort score from a pair's distance and its typical distances to other people.
    public static func score(distance d: Double, typical: Cohort.Typical) -> Double {
        max(d / cohortDistanceCeiling, d / (cohortRelativeLimit * typical.mean), d / (cohortNearestLimit * typical.nearest))
    }

    /// Similarity in [0, 1] from a decision score: 0.5 at the same-person boundary, 1 for
    /// identical embeddings (a logistic, steep enough to span the useful range of scores).
    public static func similarity(score: Double) -> Double {
        1 / (1 + exp((score - 1) * 7))
    }

    /// The decision score at which `similarity(score:)` equals `similarity`.
    public static func score(atSimilarity similarity: Double) -> Double {
        1 + log(1 / similarity - 1) / 7
    }

    public static func similarity(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Double {
        similarity(score: score(a, b, cohort: cohort))
    }

    public static func samePerson(_ a: [Float], _ b: [Float], cohort: Cohort? = nil) -> Bool {
        score(a, b, cohort: cohort) < 1
    }

    /// `score` against a collection of people that may hold the two compared people (a
    /// project's people, say): their own people are found by `cohortOwnPersonDistance`.
    public static func score(_ a: [Float], _ b: [Float], amongPeople people: Cohort) -> Double {
        let d = distance(a, b)
        guard let typical = people.typicalDistance(amongOwnPeople: a, b) else { return d / samePersonDistance }
        return score(distance: d, typical: typical)
    }
}

/// Faces of people other than the two being compared (for instance the rest of a photo
/// collection), each with a label naming its person so a comparison can leave out the faces of
/// the two people it is about and weigh every other person alike. Unlabelled faces each take a
/// label of their own (a photo's file name, say).
public struct Cohort: Sendable {
    public let members: [(label: String, embedding: [Float])]

    public init(_ members: [(label: String, embedding: [Float])]) {
        self.members = members
    }

    /// How far a face (or a pair, averaged) is from other people: the mean over the cohort's
    /// people, and the mean over the `FaceComparison.cohortNearestPeople` people nearest it.
    public struct Typical: Sendable, Equatable {
        public var mean: Double
        public var nearest: Double

        public init(mean: Double, nearest: Double) {
            self.mean = mean
            self.nearest = nearest
        }

        /// The pair's typical distances: the mean of both faces'.
        public static func pair(_ a: Typical, _ b: Typical) -> Typical {
            Typical(mean: (a.mean + b.mean) / 2, nearest: (a.nearest + b.nearest) / 2)
        }
    }

    /// How far one face is from each cohort person: the mean distance to that person's faces,
    /// and how many faces it is over.
    public struct Distances: Sendable {
        /// Nearest person first.
        public var people: [(label: String, mean: Double, faces: Int)]

        /// The face's typical distances to other people, each person once, leaving out the faces
        /// labelled with any of `excluded`; nil when fewer than `FaceComparison.cohortMinimumFaces`
        /// faces remain.
        public func typical(excluding excluded: Set<String> = []) -> Typical? {
            var sum = 0.0, count = 0, faces = 0, nearest = 0.0
            for person in people where !excluded.contains(person.label) {
                sum += person.mean
                count += 1
                faces += person.faces
                if count == FaceComparison.cohortNearestPeople { nearest = sum / Double(count) }
            }
            guard faces >= FaceComparison.cohortMinimumFaces else { return nil }
            if count < FaceComparison.cohortNearestPeople { nearest = sum / Double(count) }
            return Typical(mean: sum / Double(count), nearest: nearest)
        }

        /// Two faces' typical distances with their own people (those nearer than
        /// `FaceComparison.cohortOwnPersonDistance` to either) left out of both.
        public static func pair(_ a: Distances, _ b: Distances) -> Typical? {
            let own = Set((a.people + b.people).filter { $0.mean < FaceComparison.cohortOwnPersonDistance }.map(\.label))
            guard let ta = a.typical(excluding: own), let tb = b.typical(excluding: own) else { return nil }
            return .pair(ta, tb)
        }
    }

    /// `face`'s mean distance to each cohort person, nearest person first.
    public func distances(of face: [Float]) -> Distances {
        var sums: [String: (sum: Double, faces: Int)] = [:]
        for member in members {
            let d = FaceComparison.distance(face, member.embedding)
            sums[member.label, default: (0, 0)].sum += d
            sums[member.label, default: (0, 0)].faces += 1
        }
        let people = sums.map { (label: $0.key, mean: $0.value.sum / Double($0.value.faces), faces: $0.value.faces) }
        return Distances(people: people.sorted { ($0.mean, $0.label) < ($1.mean, $1.label) })
    }

    /// The typical distances from `face` to other people, leaving out `excluded` labels.
    public func typicalDistance(of face: [Float], excluding excluded: Set<String> = []) -> Typical? {
        distances(of: face).typical(excluding: excluded)
    }

    /// The pair's typical distances to a collection that may hold the two faces' own people:
    /// every person nearer than `FaceComparison.cohortOwnPersonDistance` on average to either
    /// face is left out for both.
    public func typicalDistance(amongOwnPeople a: [Float], _ b: [Float]) -> Typical? {
        Distances.pair(distances(of: a), distances(of: b))
    }

    /// The pair's typical distances: the mean of both faces'.
    public func typicalDistance(_ a: [Float], _ b: [Float], excluding excluded: Set<String> = []) -> Typical? {
        guard let ta = typicalDistance(of: a, excluding: excluded), let tb = typicalDistance(of: b, excluding: excluded)
        else { return nil }
        return .pair(ta, tb)
    }
}
