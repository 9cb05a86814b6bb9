import Foundation
import Testing
import VisageVision

@Suite("Liveness analysis")
struct LivenessAnalysisTests {
    /// A face's 68 landmarks from a test photo.
    func landmarks() async throws -> [Point] {
        let (header, image) = try ImageDecoder().decode(TestData.bytes("faces", "img1.jpg"))
        return try #require(try await sharedEngine.get().analyze(image, header: header).faces.first).landmarks
    }

    static func homography(_ h: [Double], _ points: [Point]) -> [Point] {
        points.map { p in
            let w = h[6] * p.x + h[7] * p.y + h[8]
            return Point(x: (h[0] * p.x + h[1] * p.y + h[2]) / w, y: (h[3] * p.x + h[4] * p.y + h[5]) / w)
        }
    }

    /// The landmarks lifted onto a head (an ellipsoid, the nose standing out) and turned by
    /// `yaw` degrees about a vertical axis behind the face, seen in perspective.
    static func turned(_ points: [Point], yaw: Double) -> [Point] {
        let cx = points.map(\.x).reduce(0, +) / 68, cy = points.map(\.y).reduce(0, +) / 68
        let half = abs(points[16].x - points[0].x) / 2
        let angle = yaw * .pi / 180
        return points.enumerated().map { index, p in
            let u = (p.x - cx) / (half * 1.3)
            var z = half * (max(0, 1 - u * u)).squareRoot()
            if (27...35).contains(index) { z += 0.4 * half }
            let x = (p.x - cx) * cos(angle) + (z + half) * sin(angle)
            let depth = -(p.x - cx) * sin(angle) + (z + half) * cos(angle) - half
            let focal = 20 * half
            return Point(x: cx + focal * x / (focal - depth), y: cy + focal * (p.y - cy) / (focal - depth))
        }
    }

    @Test("a flat picture moves by one homography; a turning head does not")
    func planarResidual() async throws {
        let points = try await landmarks()
        let tilt: [Double] = [0.9, 0.08, 30, -0.05, 1.05, -12, 0.0004, -0.0002, 1]
        #expect(PlanarMotion.homographyResidual(from: points, to: Self.homography(tilt, points)) < 1e-6)
        // A tilt is not a similarity: the face changes shape.
        #expect(PlanarMotion.similarityResidual(from: points, to: Self.homography(tilt, points)) > 0.03)
        let head = Self.turned(points, yaw: 25)
        #expect(PlanarMotion.homographyResidual(from: Self.turned(points, yaw: 0), to: head) > 0.05)
    }

    func observation(_ points: [Point], yaw: Double = 0, pitch: Double = 0, roll: Double = 0, embedding: [Float]? = nil)
        -> LivenessObservation
    {
        LivenessObservation(faceCount: 1, box: FaceBox(left: 0, top: 0, width: 100, height: 100), landmarks: points,
                            pose: HeadPose(pitch: pitch, roll: roll, yaw: yaw), quality: 0.9, embedding: embedding)
    }

    @Test("the decision: live only with the asked movement and depth")
    func decisions() async throws {
        let points = try await landmarks()
        let yaws = [0.0, 5, 12, 20, 28, 30, 25, 18]
        let head = yaws.map { observation(Self.turned(points, yaw: $0), yaw: $0) }
        #expect(LivenessAnalysis.judge(head, challenge: .turnLeft).decision == .live)
        // The other way than asked.
        #expect(LivenessAnalysis.judge(head, challenge: .turnRight).decision == .uncertain)
        // A print whose pose readings moved as asked, while its landmarks moved by homographies.
        let print = yaws.enumerated().map { index, yaw in
            let t = Double(index) / 8
            return observation(Self.homography([1 - 0.2 * t, 0, 40 * t, 0, 1, 0, 0.0005 * t, 0, 1], points), yaw: yaw)
        }
        let refused = LivenessAnalysis.judge(print, challenge: .turnLeft)
        #expect(refused.decision == .spoof && refused.depthResidual < 0.01)
        // A still picture: nothing moved, nothing to decide.
        #expect(LivenessAnalysis.judge(Array(repeating: observation(points), count: 8), challenge: .lookUp).decision == .uncertain)
        // Rolled in the image plane: not read.
        let rolled = head.enumerated().map { index, face in observation(face.landmarks, yaw: yaws[index], roll: Double(index) * 4) }
        #expect(LivenessAnalysis.judge(rolled, challenge: .turnLeft).decision == .uncertain)
        // Another face at the end of the burst.
        var swapped = head
        swapped[0] = observation(head[0].landmarks, embedding: [Float](repeating: 0, count: 128))
        swapped[7] = observation(head[7].landmarks, yaw: 18, embedding: [Float](repeating: 0.1, count: 128))
        #expect(LivenessAnalysis.judge(swapped, challenge: .turnLeft).decision == .spoof)
        #expect(LivenessAnalysis.judge(Array(head.prefix(3)), challenge: .turnLeft).decision == .uncertain)
    }
}
