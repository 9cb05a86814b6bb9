import Foundation
import Testing
import VisageMedia

@Suite("Face clusterer")
struct FaceClustererTests {
    /// Faces drawn around centres in 8 dimensions: `spread` apart within a centre.
    static func faces(centres: [[Float]], perCentre: Int, spread: Float, seed: UInt64) -> [Float] {
        var state = seed
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        var out: [Float] = []
        for centre in centres {
            for _ in 0..<perCentre { out += centre.map { $0 + uniform() * spread } }
        }
        return out
    }

    /// Exact neighbour lists over all faces (what the FAISS index answers).
    static func neighbours(_ embeddings: [Float], dimension: Int) -> ([Int]) -> [[FaceNeighbour]] {
        let count = embeddings.count / dimension
        return { positions in
            positions.map { a in
                (0..<count).filter { $0 != a }.map { b -> FaceNeighbour in
                    var sum: Float = 0
                    for d in 0..<dimension { sum += pow(embeddings[a * dimension + d] - embeddings[b * dimension + d], 2) }
                    return FaceNeighbour(face: b, distance: sum.squareRoot())
                }.sorted { $0.distance < $1.distance }
            }
        }
    }

    let centres: [[Float]] = [[0, 0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0]]

    @Test func separatePeopleFoundAndSamePhotoKeptApart() throws {
        let embeddings = Self.faces(centres: centres, perCentre: 5, spread: 0.2, seed: 7)
        // Faces 0 and 1 (same person) are in one photo; everyone else has their own photo.
        let faces = (0..<15).map { ClusterFace(photo: $0 == 1 ? 0 : $0, highQuality: true, person: nil) }
        var clusterer = FaceClusterer(settings: ClusterSettings(), faces: faces, embeddings: embeddings, dimension: 8,
                                      neighbours: Self.neighbours(embeddings, dimension: 8))
        let placement = try clusterer.place()
        let groups = Dictionary(grouping: placement.keys, by: { placement[$0]! })
        #expect(groups.count == 3)
        for members in groups.values {
            // One centre per person.
            #expect(Set(members.map { $0 / 5 }).count == 1)
        }
        #expect(placement[0] != placement[1])
    }

    @Test func fewerThanThreeImagesFoundNoOneAndLowQualityOnlyJoins() throws {
        let embeddings = Self.faces(centres: centres, perCentre: 5, spread: 0.2, seed: 9)
        // Centre 0 has only two high-quality faces; centre 1 is all high quality; centre 2 is low quality.
        let faces = (0..<15).map { index in
            ClusterFace(photo: index, highQuality: index / 5 == 1 || index < 2, person: nil)
        }
        var clusterer = FaceClusterer(settings: ClusterSettings(), faces: faces, embeddings: embeddings, dimension: 8,
                                      neighbours: Self.neighbours(embeddings, dimension: 8))
        let placement = try clusterer.place()
        #expect(Set(placement.values).count == 1)
        #expect(Set(placement.keys) == Set(5..<10))
    }

    @Test func incrementalRunJoinsExistingPersonAndChangesNothingElse() throws {
        let embeddings = Self.faces(centres: centres, perCentre: 5, spread: 0.2, seed: 11)
        // Centre 0's first four faces are Cluster-1 already; the fifth is new. Centre 2 waits (low quality).
        let faces = (0..<15).map { index -> ClusterFace in
            let person: String? = index < 4 ? "Cluster-1" : (index / 5 == 1 ? "Cluster-2" : nil)
            return ClusterFace(photo: index, highQuality: index / 5 != 2, person: person)
        }
        var clusterer = FaceClusterer(settings: ClusterSettings(), faces: faces, embeddings: embeddings, dimension: 8,
                                      neighbours: Self.neighbours(embeddings, dimension: 8))
        let placement = try clusterer.place()
        #expect(placement == [4: .existing("Cluster-1")])
    }
}
