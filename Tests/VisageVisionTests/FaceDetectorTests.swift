import Foundation
import Testing
import VisageVision

/// One detector for the whole test process: compiling the model once, as the server does.
let sharedDetector: Result<FaceDetector, any Error> = Result { try FaceDetector.load(from: .discover()) }

struct DetectionEntry: Decodable {
    let name: String
    let expected_face_count: Int?
    let min_face_count: Int?
}

struct DetectionManifest: Decodable { let files: [DetectionEntry] }

@Suite("Face detection (CenterFace on OpenVINO)")
struct FaceDetectorTests {
    @Test("recall and false detections against the manifests", arguments: ["faces", "faces-east-asia"])
    func accuracy(set: String) async throws {
        let detector = try sharedDetector.get()
        let decoder = ImageDecoder()
        let manifest = try JSONDecoder().decode(
            DetectionManifest.self, from: Data(contentsOf: TestData.shared.appendingPathComponent("\(set)/manifest.json")))
        var score = FaceEvaluation.DetectionScore()
        var misses: [String] = []
        for entry in manifest.files {
            guard let count = entry.expected_face_count else { continue }
            let (_, image) = try decoder.decode(TestData.bytes(set, entry.name))
            let faces = try await detector.detect(image)
            score.add(expected: count, detected: faces.count)
            if faces.count != count { misses.append("\(entry.name): \(faces.count)/\(count)") }
        }
        print("detection \(set): images=\(score.images) recall=\(score.recall) extra=\(score.extra) mismatches=\(misses)")
        #expect(score.recall >= 0.97)
        #expect(Double(score.extra) <= Double(score.images) / 20)
    }

    @Test("boxes and landmarks land on the face in original coordinates")
    func geometry() async throws {
        let detector = try sharedDetector.get()
        let (_, image) = try ImageDecoder().decode(TestData.bytes("faces", "img1.jpg"))
        let faces = try await detector.detect(image)
        let face = try #require(faces.first)
        #expect(faces.count == 1 && face.score > 0.8)
        #expect(face.box.left >= 0 && face.box.top >= 0)
        #expect(face.box.left + face.box.width <= Double(image.width) && face.box.top + face.box.height <= Double(image.height))
        for point in face.landmarks {
            #expect(point.x > face.box.left && point.x < face.box.left + face.box.width)
            #expect(point.y > face.box.top && point.y < face.box.top + face.box.height)
        }
        // Eyes above the nose, the nose above the mouth; left eye left of the right eye.
        let (leftEye, rightEye, nose, mouthLeft, mouthRight) =
            (face.landmarks[0], face.landmarks[1], face.landmarks[2], face.landmarks[3], face.landmarks[4])
        #expect(leftEye.x < rightEye.x && mouthLeft.x < mouthRight.x)
        #expect(max(leftEye.y, rightEye.y) < nose.y && nose.y < min(mouthLeft.y, mouthRight.y))

        // The same photo at twice the size gives the same face at twice the coordinates.
        let doubled = RGBImage(width: image.width * 2, height: image.height * 2, pixels: Self.upscale2x(image))
        let big = try #require(try await detector.detect(doubled).first)
        #expect(abs(big.box.left - face.box.left * 2) < face.box.width * 0.15)
        #expect(abs(big.box.width - face.box.width * 2) < face.box.width * 0.2)
    }

    @Test("small faces in a very large image are found through tiles")
    func tiles() async throws {
        // t1.jpg shrunk to a third (its six faces about 45 px high), pasted four times into a
        // 7200 × 5400 canvas, once across the seam of two tiles.
        let (_, group) = try ImageDecoder().decode(TestData.bytes("faces", "t1.jpg"))
        let small = shrink(group, by: 3)
        let width = 7200, height = 5400
        var canvas = [UInt8](repeating: 120, count: width * height * 3)
        let places = [(100, 100), (2300, 2250), (6600, 4900), (3000, 200)]
        for (left, top) in places {
            for y in 0..<min(small.height, height - top) {
                let count = min(small.width, width - left) * 3
                canvas.replaceSubrange((((top + y) * width + left) * 3)..<(((top + y) * width + left) * 3 + count),
                                       with: small.pixels[(y * small.width * 3)..<(y * small.width * 3 + count)])
            }
        }
        let image = RGBImage(width: width, height: height, pixels: canvas)
        var detector = try sharedDetector.get()
        let faces = try await detector.detect(image)
        let inside = faces.filter { face in
            places.contains { face.box.left >= Double($0.0) && face.box.top >= Double($0.1)
                && face.box.left + face.box.width <= Double($0.0 + small.width) + 2
                && face.box.top + face.box.height <= Double($0.1 + small.height) + 2 }
        }
        #expect(inside.count >= 22 && inside.count == faces.count, "found \(faces.count), \(inside.count) on the pasted photos")
        detector.tileScale = 0
        let wholeOnly = try await detector.detect(image)
        print("tiles: \(faces.count) faces, \(inside.count) on the pasted photos; \(wholeOnly.count) without tiles")
        #expect(wholeOnly.count < inside.count / 2)
    }

    @Test("small group photos keep their small faces; larger photos are seen at half size")
    func smallPhotos() async throws {
        let detector = try sharedDetector.get()
        // t1.jpg (1280 × 886, six faces) at a third and a quarter: faces about 37 and 28 px high.
        let (_, group) = try ImageDecoder().decode(TestData.bytes("faces", "t1.jpg"))
        for factor in [3, 4] {
            let small = shrink(group, by: factor)
            let faces = try await detector.detect(small)
            #expect(faces.count == 6, "t1.jpg at 1/\(factor): \(faces.count) faces")
        }
        // The whole-image pass: never below 384 px on the longer side, never above half size
        // otherwise, and tiles only beyond what `maxSide` holds at `tileScale`.
        for (side, scale) in [(300, 1.0), (640, 0.6), (1000, 0.5), (2560, 0.5)] {
            let passes = detector.plan(width: side, height: side / 2)
            #expect(passes.count == 1 && abs(passes[0].scale - scale) < 1e-9, "\(side) px: \(passes.map(\.scale))")
        }
        #expect(detector.plan(width: 4000, height: 3000).count > 1)
    }

    /// Box-filter shrink by a whole factor.
    func shrink(_ image: RGBImage, by factor: Int) -> RGBImage {
        let width = image.width / factor, height = image.height / factor
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<3 {
                    var sum = 0
                    for dy in 0..<factor {
                        for dx in 0..<factor { sum += Int(image.pixels[((y * factor + dy) * image.width + x * factor + dx) * 3 + channel]) }
                    }
                    pixels[(y * width + x) * 3 + channel] = UInt8(sum / (factor * factor))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    @Test("an image without faces yields none")
    func blank() async throws {
        let detector = try sharedDetector.get()
        var gradient: [UInt8] = []
        for y in 0..<240 {
            for x in 0..<320 { gradient += [UInt8(x * 255 / 320), 128, UInt8(y)] }
        }
        #expect(try await detector.detect(RGBImage(width: 320, height: 240, pixels: gradient)).isEmpty)
    }

    static func upscale2x(_ image: RGBImage) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.pixels.count * 4)
        for y in 0..<(image.height * 2) {
            for x in 0..<(image.width * 2) {
                let source = ((y / 2) * image.width + x / 2) * 3
                let target = (y * image.width * 2 + x) * 3
                out[target] = image.pixels[source]
                out[target + 1] = image.pixels[source + 1]
                out[target + 2] = image.pixels[source + 2]
            }
        }
        return out
    }
}
