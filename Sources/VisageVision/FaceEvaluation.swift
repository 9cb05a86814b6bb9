import Foundation

/// Accuracy measures over labelled photos, shared by the tests and `visage bench`.
public enum FaceEvaluation {
    /// Detection counts against the expected number of faces per image.
    public struct DetectionScore: Sendable {
        public var images = 0
        public var expected = 0
        public var found = 0
        /// Detections beyond the expected count (false detections, at most).
        public var extra = 0

        public init() {}

        public mutating func add(expected count: Int, detected: Int) {
            images += 1
            expected += count
            found += min(count, detected)
            extra += max(0, detected - count)
        }

        public var recall: Double { expected > 0 ? Double(found) / Double(expected) : 0 }
    }

    /// Same- and different-person decision scores over every pair of labelled embeddings. Plain
    /// scores are distances; cohort scores are `FaceComparison.score` against the pooled faces
    /// `cohort` (both identities of a pair left out, as a collection would judge two faces against
    /// the people they are not).
    public struct PairScores: Sendable {
        public var same: [Double] = []
        public var different: [Double] = []

        public init(_ faces: [(identity: String, embedding: [Float])]) {
            self.init(faces) { i, j in FaceComparison.distance(faces[i].embedding, faces[j].embedding) }
        }

        public init(_ faces: [(identity: String, embedding: [Float])], cohort pool: [(identity: String, embedding: [Float])]) {
            self.init(faces, typical: Self.typicalDistances(faces, cohort: pool))
        }

        /// The server's scores against `pool`, a collection that may hold the pair's own people
        /// (`FaceComparison.score(_:_:amongPeople:)`).
        public init(_ faces: [(identity: String, embedding: [Float])], amongPeople pool: [(identity: String, embedding: [Float])]) {
            self.init(faces, typical: Self.typicalDistances(faces, amongPeople: pool))
        }

        /// The server's cohort scores from each pair's typical distances (the distance alone where
        /// there are none).
        init(_ faces: [(identity: String, embedding: [Float])], typical: (Int, Int) -> Cohort.Typical?) {
            self.init(faces) { i, j in
                let d = FaceComparison.distance(faces[i].embedding, faces[j].embedding)
                guard let t = typical(i, j) else { return d / FaceComparison.samePersonDistance }
                return FaceComparison.score(distance: d, typical: t)
            }
        }

        /// Scores from any rule over the pair `(i, j)` of `faces`.
        public init(_ faces: [(identity: String, embedding: [Float])], score: (Int, Int) -> Double) {
            for i in faces.indices {
                for j in faces.indices where j > i {
                    let value = score(i, j)
                    if faces[i].identity == faces[j].identity { same.append(value) } else { different.append(value) }
                }
            }
            different.sort()
        }

        /// The pair `(i, j)`'s typical distance to `pool`, a collection that may hold the pair's own
        /// people under any labels: they are found by distance (`Cohort.Distances.pair`).
        public static func typicalDistances(_ faces: [(identity: String, embedding: [Float])],
                                            amongPeople pool: [(identity: String, embedding: [Float])]) -> (Int, Int) -> Cohort.Typical? {
            let distances = Self.distances(faces, to: pool)
            return { i, j in Cohort.Distances.pair(distances[i], distances[j]) }
        }

        /// The pair `(i, j)`'s typical distance to the cohort `pool`, both identities of the pair
        /// left out; nil when too few cohort faces remain.
        public static func typicalDistances(_ faces: [(identity: String, embedding: [Float])],
                                            cohort pool: [(identity: String, embedding: [Float])]) -> (Int, Int) -> Cohort.Typical? {
            let distances = Self.distances(faces, to: pool)
            return { i, j in
                let excluded: Set = [faces[i].identity, faces[j].identity]
                guard let ti = distances[i].typical(excluding: excluded), let tj = distances[j].typical(excluding: excluded)
                else { return nil }
                return .pair(ti, tj)
            }
        }

        /// Each face's mean distance to every person of `pool`.
        static func distances(_ faces: [(identity: String, embedding: [Float])],
                              to pool: [(identity: String, embedding: [Float])]) -> [Cohort.Distances] {
            let cohort = Cohort(pool.map { ($0.identity, $0.embedding) })
            return faces.map { cohort.distances(of: $0.embedding) }
        }

        /// Share of same-person pairs accepted at `threshold`.
        public func trueAcceptRate(at threshold: Double) -> Double {
            same.isEmpty ? 0 : Double(same.filter { $0 < threshold }.count) / Double(same.count)
        }

        /// Share of all different-person pairs accepted at `threshold`.
        public func falseAcceptRate(at threshold: Double) -> Double {
            different.isEmpty ? 0 : Double(different.filter { $0 < threshold }.count) / Double(different.count)
        }

        /// Accuracy over all same-person pairs plus as many different-person pairs, taken evenly
        /// across the sorted different-person scores.
        public func balancedAccuracy(at threshold: Double) -> Double {
            guard !same.isEmpty, !different.isEmpty else { return 0 }
            let step = Double(different.count) / Double(same.count)
            let sampled = (0..<same.count).map { different[min(different.count - 1, Int(Double($0) * step))] }
            let correct = same.filter { $0 < threshold }.count + sampled.filter { $0 >= threshold }.count
            return Double(correct) / Double(same.count + sampled.count)
        }
    }
}
