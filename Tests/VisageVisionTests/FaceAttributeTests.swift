import Foundation
import Testing
import VisageVision

let sharedEngine: Result<FaceEngine, any Error> = Result { try FaceEngine.load() }

@Suite("Face attributes")
struct FaceAttributeTests {
    func firstFace(_ name: String) async throws -> (AnalyzedFace, RGBImage) {
        let (header, image) = try ImageDecoder().decode(TestData.bytes("faces", name))
        let analysis = try await sharedEngine.get().analyze(image, header: header)
        return (try #require(analysis.faces.first), image)
    }

    @Test("head pose follows rotations of the landmarks")
    func headPose() async throws {
        let (face, _) = try await firstFace("img1.jpg")
        let base = FaceMeasures.headPose(face.landmarks)
        #expect(abs(base.yaw) < 30 && abs(base.pitch) < 30 && abs(base.roll) < 15)
        // Turn the landmarks 20° clockwise on screen about their centre.
        let cx = face.landmarks.map(\.x).reduce(0, +) / 68, cy = face.landmarks.map(\.y).reduce(0, +) / 68
        let angle = 20 * Double.pi / 180
        let turned = face.landmarks.map { p in
            Point(x: cx + (p.x - cx) * cos(angle) - (p.y - cy) * sin(angle),
                  y: cy + (p.x - cx) * sin(angle) + (p.y - cy) * cos(angle))
        }
        let rolled = FaceMeasures.headPose(turned)
        #expect(abs(rolled.roll - base.roll - 20) < 3)
        #expect(abs(rolled.yaw - base.yaw) < 3 && abs(rolled.pitch - base.pitch) < 3)
        // The nose tip moved right means the face turned to the image's right; up means looking up.
        let width = face.detection.box.width
        var right = face.landmarks
        right[30].x += width * 0.1
        #expect(FaceMeasures.headPose(right).yaw > base.yaw + 5)
        var up = face.landmarks
        up[30].y -= width * 0.1
        #expect(FaceMeasures.headPose(up).pitch > base.pitch + 5)
    }

    @Test("head pose from the detector's five points follows the same rotations")
    func headPoseFromFivePoints() async throws {
        let (face, _) = try await firstFace("img1.jpg")
        let points = face.detection.landmarks
        let base = FaceMeasures.headPose(detected: points)
        let full = FaceMeasures.headPose(face.landmarks)
        #expect(abs(base.yaw - full.yaw) < 10 && abs(base.roll - full.roll) < 5 && abs(base.pitch - full.pitch) < 20)
        let cx = points.map(\.x).reduce(0, +) / 5, cy = points.map(\.y).reduce(0, +) / 5
        let angle = -15 * Double.pi / 180
        let turned = points.map { p in
            Point(x: cx + (p.x - cx) * cos(angle) - (p.y - cy) * sin(angle),
                  y: cy + (p.x - cx) * sin(angle) + (p.y - cy) * cos(angle))
        }
        #expect(abs(FaceMeasures.headPose(detected: turned).roll - base.roll + 15) < 3)
        var right = points
        right[2].x += face.detection.box.width * 0.1
        #expect(FaceMeasures.headPose(detected: right).yaw > base.yaw + 5)
        var up = points
        up[2].y -= face.detection.box.width * 0.1
        #expect(FaceMeasures.headPose(detected: up).pitch > base.pitch + 5)
    }

    @Test("blur lowers sharpness and quality; a small face lowers quality")
    func sharpnessAndQuality() async throws {
        let (face, image) = try await firstFace("img1.jpg")
        #expect(face.attributes.sharpness > 0.8)
        #expect(face.attributes.faceQuality > 0.8)
        let blurred = RGBImage(width: image.width, height: image.height, pixels: Self.boxBlur(image, radius: Int(face.detection.box.width / 25)))
        let blurredSharpness = FaceMeasures.sharpness(blurred, box: face.detection.box)
        #expect(blurredSharpness < 0.5)
        let small = FaceBox(left: 0, top: 0, width: 50, height: 60)
        let smallQuality = FaceMeasures.faceQuality(box: small, pose: face.attributes.headPose,
                                                    sharpness: face.attributes.sharpness, exposure: 1, detectorScore: 0.99)
        #expect(smallQuality < 0.8)
        let turned = FaceMeasures.faceQuality(box: face.detection.box, pose: HeadPose(pitch: 0, roll: 0, yaw: 45),
                                              sharpness: 0.9, exposure: 1, detectorScore: 0.99)
        #expect(turned < 0.8)
    }

    @Test("mouth open or closed from the inner lips")
    func mouth() async throws {
        let (face, _) = try await firstFace("img1.jpg")
        var closed = face.landmarks
        for (top, bottom) in [(61, 67), (62, 66), (63, 65)] { closed[bottom] = closed[top] }
        #expect(FaceMeasures.mouthState(closed).0 == .close)
        var open = closed
        let width = hypot(open[54].x - open[48].x, open[54].y - open[48].y)
        for bottom in [65, 66, 67] { open[bottom].y += width * 0.4 }
        let (state, confidence) = FaceMeasures.mouthState(open)
        #expect(state == .open && confidence > 0.9)
    }

    @Test("every face of the test set gets attributes in range")
    func ranges() async throws {
        let engine = try sharedEngine.get()
        for name in ["couple.jpg", "img3.jpg", "img13.jpg", "img20.jpg", "selfie-many-people.jpg"] {
            let analysis = try await engine.analyze(TestData.bytes("faces", name))
            #expect(!analysis.faces.isEmpty)
            for face in analysis.faces {
                let a = face.attributes
                #expect((0...1).contains(a.sharpness) && (0...1).contains(a.faceQuality))
                #expect((0.5...1).contains(a.mouthConfidence ?? -1) && (0...1).contains(a.figureConfidence))
                #expect(abs(a.headPose.yaw) <= 90 && abs(a.headPose.pitch) <= 180 && abs(a.headPose.roll) <= 180)
                #expect(face.embedding.count == 128)
            }
        }
    }

    static func boxBlur(_ image: RGBImage, radius: Int) -> [UInt8] {
        var out = image.pixels
        let w = image.width, h = image.height
        var temp = [Int](repeating: 0, count: image.pixels.count)
        for y in 0..<h {
            for c in 0..<3 {
                var sum = 0
                for x in -radius...radius { sum += Int(image.pixels[(y * w + min(max(x, 0), w - 1)) * 3 + c]) }
                for x in 0..<w {
                    temp[(y * w + x) * 3 + c] = sum / (2 * radius + 1)
                    sum += Int(image.pixels[(y * w + min(x + radius + 1, w - 1)) * 3 + c])
                    sum -= Int(image.pixels[(y * w + max(x - radius, 0)) * 3 + c])
                }
            }
        }
        for x in 0..<w {
            for c in 0..<3 {
                var sum = 0
                for y in -radius...radius { sum += temp[(min(max(y, 0), h - 1) * w + x) * 3 + c] }
                for y in 0..<h {
                    out[(y * w + x) * 3 + c] = UInt8(sum / (2 * radius + 1))
                    sum += temp[(min(y + radius + 1, h - 1) * w + x) * 3 + c]
                    sum -= temp[(max(y - radius, 0) * w + x) * 3 + c]
                }
            }
        }
        return out
    }
}
