import Foundation
import Testing
import VisageVision

struct IdentityEntry: Decodable {
    let name: String
    let identity: String?
    let expected_face_count: Int?
}

struct IdentityManifest: Decodable { let files: [IdentityEntry] }

/// Embeddings of the largest face in each single-identity photo of a set.
func embeddings(of set: String) async throws -> [(identity: String, name: String, vector: [Float])] {
    let detector = try sharedDetector.get()
    let catalog = ModelCatalog.discover()
    let landmarker = try FaceLandmarker(path: try catalog.url(of: .dlibLandmarks68).path)
    let embedder = try FaceEmbedder(path: try catalog.url(of: .dlibResNet).path)
    let manifest = try JSONDecoder().decode(
        IdentityManifest.self, from: Data(contentsOf: TestData.shared.appendingPathComponent("\(set)/manifest.json")))
    var result: [(String, String, [Float])] = []
    for entry in manifest.files {
        guard let identity = entry.identity else { continue }
        let (_, image) = try ImageDecoder().decode(TestData.bytes(set, entry.name))
        guard let face = try await detector.detect(image).max(by: { $0.box.width * $0.box.height < $1.box.width * $1.box.height })
        else { continue }
        let points = try landmarker.landmarks(in: image, box: face.box)
        result.append((identity, entry.name, try embedder.embedding(of: image, landmarks: points)))
    }
    return result
}

@Suite("Face verification with the dlib embedding")
struct VerificationTests {
    @Test("same/different person accuracy on both sets", arguments: ["faces", "faces-east-asia"])
    func verification(set: String) async throws {
        let faces = try await embeddings(of: set)
        #expect(faces.count > 50)
        let pairs = FaceEvaluation.PairDistances(faces.map { ($0.identity, $0.vector) })
        for threshold in stride(from: 0.35, through: 0.60, by: 0.05) {
            print(String(format: "verification %@ t=%.2f accuracy=%.3f TAR=%.3f FAR=%.4f", set, threshold,
                         pairs.balancedAccuracy(at: threshold), pairs.trueAcceptRate(at: threshold),
                         pairs.falseAcceptRate(at: threshold)))
        }
        // The figures FaceComparison documents for its same-person distance.
        let threshold = FaceComparison.samePersonDistance
        #expect(pairs.trueAcceptRate(at: threshold) >= 0.75)
        #expect(pairs.falseAcceptRate(at: threshold) <= (set == "faces" ? 0.005 : 0.05))
    }
}
