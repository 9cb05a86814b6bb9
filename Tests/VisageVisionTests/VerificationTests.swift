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
    let embedder = try FaceEmbedder.load(from: catalog)
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
    @Test("plain distance and cohort-judged accuracy on both sets")
    func verification() async throws {
        var sets: [String: [(identity: String, embedding: [Float])]] = [:]
        for set in ["faces", "faces-east-asia"] {
            let faces = try await embeddings(of: set)
            #expect(faces.count > 50)
            sets[set] = faces.map { ("\(set)/\($0.identity)", $0.vector) }
        }
        for (set, faces) in sets.sorted(by: { $0.key < $1.key }) {
            let plain = FaceEvaluation.PairScores(faces)
            // The cohort: the set's other people (people like the two compared, as a collection has).
            let judged = FaceEvaluation.PairScores(faces, cohort: faces)
            for threshold in stride(from: 0.35, through: 0.60, by: 0.05) {
                print(String(format: "verification %@ distance<%.2f accuracy=%.3f TAR=%.3f FAR=%.4f", set, threshold,
                             plain.balancedAccuracy(at: threshold), plain.trueAcceptRate(at: threshold),
                             plain.falseAcceptRate(at: threshold)))
            }
            print(String(format: "verification %@ with cohort accuracy=%.3f TAR=%.3f FAR=%.4f", set,
                         judged.balancedAccuracy(at: 1), judged.trueAcceptRate(at: 1), judged.falseAcceptRate(at: 1)))
            // The figures FaceComparison documents for its plain same-person distance...
            let threshold = FaceComparison.samePersonDistance
            #expect(plain.trueAcceptRate(at: threshold) >= 0.75)
            // About 5% on the East-Asian set: it moves by a few pairs in a hundred with the
            // detector's boxes (4.8% and 5.2% at full and half detection scale).
            #expect(plain.falseAcceptRate(at: threshold) <= (set == "faces" ? 0.005 : 0.06))
            // ...and for judging against a cohort: accurate on the Western set, false accepts
            // at most 1% on both (docs/face-comparison.md).
            #expect(judged.balancedAccuracy(at: 1) >= (set == "faces" ? 0.97 : 0.86))
            #expect(judged.falseAcceptRate(at: 1) <= 0.01)
            // The same people with the pair's own among them, under other labels (as a project's
            // people are): found by distance and left out, they judge about as well.
            let among = FaceEvaluation.PairScores(faces, amongPeople: faces.map { ("person \($0.identity)", $0.embedding) })
            print(String(format: "verification %@ among its own people accuracy=%.3f FAR=%.4f", set,
                         among.balancedAccuracy(at: 1), among.falseAcceptRate(at: 1)))
            #expect(among.balancedAccuracy(at: 1) >= (set == "faces" ? 0.97 : 0.86))
            #expect(among.falseAcceptRate(at: 1) <= 0.01)
        }
    }
}
