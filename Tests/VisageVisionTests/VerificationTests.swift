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

func distance(_ a: [Float], _ b: [Float]) -> Double {
    Double(zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }).squareRoot()
}

@Suite("Face verification with the dlib embedding")
struct VerificationTests {
    @Test("same/different person accuracy on both sets", arguments: ["faces", "faces-east-asia"])
    func verification(set: String) async throws {
        let faces = try await embeddings(of: set)
        var same: [Double] = [], different: [Double] = []
        for i in faces.indices {
            for j in faces.indices where j > i {
                let d = distance(faces[i].vector, faces[j].vector)
                if faces[i].identity == faces[j].identity { same.append(d) } else { different.append(d) }
            }
        }
        // As many different-person pairs as same-person pairs, spread evenly over all of them.
        different.sort()
        let step = Double(different.count) / Double(same.count)
        let sampled = (0..<same.count).map { different[min(different.count - 1, Int(Double($0) * step))] }
        var lines: [String] = []
        for threshold in stride(from: 0.30, through: 0.60, by: 0.025) {
            let accepted = same.filter { $0 < threshold }.count
            let falseAccepted = sampled.filter { $0 < threshold }.count
            let accuracy = Double(accepted + sampled.count - falseAccepted) / Double(same.count + sampled.count)
            let far = Double(different.filter { $0 < threshold }.count) / Double(different.count)
            lines.append(String(format: "t=%.3f acc=%.3f tar=%.3f far(all)=%.4f", threshold, accuracy,
                                Double(accepted) / Double(same.count), far))
        }
        print("verification \(set): faces=\(faces.count) same=\(same.count) different=\(different.count)\n" + lines.joined(separator: "\n"))
        #expect(faces.count > 50)
        // The figures FaceComparison documents for its same-person distance.
        let threshold = FaceComparison.samePersonDistance
        let trueAccepts = Double(same.filter { $0 < threshold }.count) / Double(same.count)
        let falseAccepts = Double(different.filter { $0 < threshold }.count) / Double(different.count)
        #expect(trueAccepts >= 0.75)
        #expect(falseAccepts <= (set == "faces" ? 0.005 : 0.05))
    }
}
