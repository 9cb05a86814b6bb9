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

    /// Same- and different-person distances over every pair of labelled embeddings.
    public struct PairDistances: Sendable {
        public var same: [Double] = []
        public var different: [Double] = []

        public init(_ faces: [(identity: String, embedding: [Float])]) {
            for i in faces.indices {
                for j in faces.indices where j > i {
                    let d = FaceComparison.distance(faces[i].embedding, faces[j].embedding)
                    if faces[i].identity == faces[j].identity { same.append(d) } else { different.append(d) }
                }
            }
            different.sort()
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
        /// across the sorted different-person distances.
        public func balancedAccuracy(at threshold: Double) -> Double {
            guard !same.isEmpty, !different.isEmpty else { return 0 }
            let step = Double(different.count) / Double(same.count)
            let sampled = (0..<same.count).map { different[min(different.count - 1, Int(Double($0) * step))] }
            let correct = same.filter { $0 < threshold }.count + sampled.filter { $0 >= threshold }.count
            return Double(correct) / Double(same.count + sampled.count)
        }
    }
}
