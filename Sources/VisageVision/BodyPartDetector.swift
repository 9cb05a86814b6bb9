import Foundation
import VisageCore

/// A body region the body-part detector knows, exposed or covered, in the order of the
/// network's class outputs.
public enum BodyPart: String, CaseIterable, Sendable, Codable {
    case femaleGenitaliaCovered, faceFemale, buttocksExposed, femaleBreastExposed, femaleGenitaliaExposed, maleBreastExposed
    case anusExposed, feetExposed, bellyCovered, feetCovered, armpitsCovered, armpitsExposed, faceMale, bellyExposed
    case maleGenitaliaExposed, anusCovered, femaleBreastCovered, buttocksCovered
}

/// One body part found in an image: which, how sure, and where (image pixels).
public struct BodyPartDetection: Sendable, Equatable, Codable {
    public let part: BodyPart
    /// The network's class score, 0–1.
    public let score: Double
    public let box: FaceBox

    public init(part: BodyPart, score: Double, box: FaceBox) {
        self.part = part
        self.score = score
        self.box = box
    }
}

/// NudeNet's 320n detector (YOLOv8, 18 body-part classes) on OpenVINO. The image is padded at its
/// right or bottom edge to a square, scaled to 320 × 320 and given as RGB in 0–1; each of the 2100
/// anchors names its best class, those scoring at least `scoreThreshold` are kept, and overlapping
/// boxes are merged whatever their class, as the package's own pipeline does.
public struct BodyPartDetector: Sendable {
    public let model: InferenceModel
    /// The lowest class score an anchor is reported with (the package's own, 0.2).
    public var scoreThreshold: Double = 0.2
    /// Boxes overlapping by more than this IoU keep only the best-scoring one (the package's 0.45).
    public var nmsThreshold: Double = 0.45
    public static let inputSide = 320

    public init(model: InferenceModel) {
        self.model = model
    }

    public static func load(from catalog: ModelCatalog, threads: Int = 0, concurrency: Int = 2) throws -> BodyPartDetector {
        BodyPartDetector(model: try InferenceModel(path: try catalog.url(of: .nudeNet).path, threads: threads, concurrency: concurrency))
    }

    public func detect(_ image: RGBImage) async throws -> [BodyPartDetection] {
        let side = Self.inputSide
        let input = try await Blocking.run { Self.squareInput(image, side: side) }
        let outputs = try await model.run(input: input, shape: [1, 3, side, side])
        guard let output = outputs.first, output.shape.count == 3, output.shape[1] == 4 + BodyPart.allCases.count else {
            throw InferenceError(description: "the body-part detector returned an unexpected output")
        }
        return decode(output, width: image.width, height: image.height)
    }

    /// The network's output `[1, 4 + classes, anchors]` (box centre, width, height in input
    /// pixels, then class scores) as detections in image pixels.
    public func decode(_ output: Tensor, width: Int, height: Int) -> [BodyPartDetection] {
        let classes = BodyPart.allCases
        let anchors = output.shape[2]
        // The padded square is what the network saw: one scale for both axes.
        let scale = Double(max(width, height)) / Double(Self.inputSide)
        var candidates: [BodyPartDetection] = []
        for anchor in 0..<anchors {
            var best = 0, bestScore: Float = -1
            for index in classes.indices {
                let score = output[0, 4 + index, anchor]
                if score > bestScore { (best, bestScore) = (index, score) }
            }
            guard Double(bestScore) >= scoreThreshold else { continue }
            let cx = Double(output[0, 0, anchor]), cy = Double(output[0, 1, anchor])
            let w = Double(output[0, 2, anchor]), h = Double(output[0, 3, anchor])
            let left = min(max(0, (cx - w / 2) * scale), Double(width))
            let top = min(max(0, (cy - h / 2) * scale), Double(height))
            let box = FaceBox(left: left, top: top, width: min(w * scale, Double(width) - left), height: min(h * scale, Double(height) - top))
            candidates.append(BodyPartDetection(part: classes[best], score: Double(bestScore), box: box))
        }
        var kept: [BodyPartDetection] = []
        for candidate in candidates.sorted(by: { $0.score > $1.score })
        where !kept.contains(where: { $0.box.iou(candidate.box) > nmsThreshold }) {
            kept.append(candidate)
        }
        return kept
    }

    /// The image padded with black at its right or bottom to a square, scaled bilinearly (pixel
    /// centres aligned, no smoothing, like OpenCV's `INTER_LINEAR`) to `side` × `side`, as a
    /// planar RGB tensor in 0–1.
    static func squareInput(_ image: RGBImage, side: Int) -> [Float] {
        let square = max(image.width, image.height)
        let plane = side * side
        var output = [Float](repeating: 0, count: 3 * plane)
        let ratio = Double(square) / Double(side)
        func sample(_ position: Int, limit: Int) -> (Int, Int, Float) {
            let f = max(0, (Double(position) + 0.5) * ratio - 0.5)
            let low = min(Int(f), square - 1)
            return (low, min(low + 1, square - 1), Float(f - Double(Int(f))))
        }
        image.pixels.withUnsafeBufferPointer { pixels in
            output.withUnsafeMutableBufferPointer { out in
                for y in 0..<side {
                    let (y0, y1, wy) = sample(y, limit: square)
                    for x in 0..<side {
                        let (x0, x1, wx) = sample(x, limit: square)
                        for channel in 0..<3 {
                            // Outside the image lies the black padding.
                            func value(_ px: Int, _ py: Int) -> Float {
                                px < image.width && py < image.height ? Float(pixels[(py * image.width + px) * 3 + channel]) : 0
                            }
                            let top = value(x0, y0) * (1 - wx) + value(x1, y0) * wx
                            let bottom = value(x0, y1) * (1 - wx) + value(x1, y1) * wx
                            out[channel * plane + y * side + x] = (top * (1 - wy) + bottom * wy) / 255
                        }
                    }
                }
            }
        }
        return output
    }
}
