import Foundation

/// How alike two faces are, from the Euclidean distance of their dlib embeddings.
public enum FaceComparison {
    /// Below this distance two faces are taken to be one person. Measured on both test sets
    /// (BENCHMARKS.md): at 0.45 no different-person pair of the Western set and 4% of the
    /// East-Asian set are accepted, while 83% (Western) and 80% (East-Asian) of same-person pairs
    /// are. The dlib embedding cannot reach both low false accepts on the East-Asian set and high
    /// accuracy on the Western set with one threshold; 0.45 favours few false accepts.
    public static let samePersonDistance = 0.45

    public static func distance(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "embeddings of different sizes")
        var sum: Float = 0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return Double(sum).squareRoot()
    }

    /// Similarity in [0, 1]: 0.5 at the same-person distance, rising to 1 for identical
    /// embeddings (a logistic of the distance, slope 15 per unit).
    public static func similarity(_ a: [Float], _ b: [Float]) -> Double {
        1 / (1 + exp((distance(a, b) - samePersonDistance) * 15))
    }

    public static func samePerson(_ a: [Float], _ b: [Float]) -> Bool {
        distance(a, b) < samePersonDistance
    }
}
