import Foundation

/// A point in image pixel coordinates.
public struct Point: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned box in image pixel coordinates.
public struct FaceBox: Sendable, Equatable, Codable {
    public var left: Double
    public var top: Double
    public var width: Double
    public var height: Double

    public init(left: Double, top: Double, width: Double, height: Double) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
    }

    /// Intersection over union with another box.
    public func iou(_ other: FaceBox) -> Double {
        let x1 = max(left, other.left), y1 = max(top, other.top)
        let x2 = min(left + width, other.left + other.width), y2 = min(top + height, other.top + other.height)
        let intersection = max(0, x2 - x1) * max(0, y2 - y1)
        let union = width * height + other.width * other.height - intersection
        return union > 0 ? intersection / union : 0
    }
}

/// A face found by the detector: box, confidence and five landmarks (left eye, right eye, nose
/// tip, left and right mouth corner, as seen in the image).
public struct DetectedFace: Sendable, Equatable {
    public let box: FaceBox
    public let score: Double
    public let landmarks: [Point]
}

/// CenterFace face detection on OpenVINO. The network sees the image scaled so its longer side
/// is at most `maxSide` and each side is a multiple of 32; boxes and landmarks are mapped back to
/// the original image's pixels.
public struct FaceDetector: Sendable {
    public let model: InferenceModel
    public var scoreThreshold: Double
    public var nmsThreshold: Double
    public var maxSide: Int

    public init(model: InferenceModel, scoreThreshold: Double = 0.5, nmsThreshold: Double = 0.3, maxSide: Int = 1280) {
        self.model = model
        self.scoreThreshold = scoreThreshold
        self.nmsThreshold = nmsThreshold
        self.maxSide = maxSide
    }

    /// Loads CenterFace from the model catalog.
    public static func load(from catalog: ModelCatalog, threads: Int = 0, concurrency: Int = 2) throws -> FaceDetector {
        let model = try InferenceModel(
            path: try catalog.url(of: .centerFace).path, threads: threads, concurrency: concurrency, dynamicSpatial: true)
        return FaceDetector(model: model)
    }

    public func detect(_ image: RGBImage) async throws -> [DetectedFace] {
        let scale = min(1, Double(maxSide) / Double(max(image.width, image.height)))
        let inputWidth = max(32, Int((Double(image.width) * scale / 32).rounded(.up)) * 32)
        let inputHeight = max(32, Int((Double(image.height) * scale / 32).rounded(.up)) * 32)
        let input = Self.planarResize(image, width: inputWidth, height: inputHeight)
        let outputs = try await model.run(input: input, shape: [1, 3, inputHeight, inputWidth])
        guard outputs.count == 4 else { throw InferenceError(description: "CenterFace returned \(outputs.count) outputs") }
        let faces = decode(heatmap: outputs[0], scale: outputs[1], offset: outputs[2], landmarks: outputs[3],
                           inputWidth: inputWidth, inputHeight: inputHeight)
        let sx = Double(image.width) / Double(inputWidth), sy = Double(image.height) / Double(inputHeight)
        return faces.map { face in
            DetectedFace(
                box: FaceBox(left: face.box.left * sx, top: face.box.top * sy, width: face.box.width * sx, height: face.box.height * sy),
                score: face.score,
                landmarks: face.landmarks.map { Point(x: $0.x * sx, y: $0.y * sy) })
        }
    }

    /// CenterFace's output decoding: a heat-map peak marks a face centre (stride 4); `scale` holds
    /// log height and width, `offset` the sub-cell centre shift, and the landmarks are relative to
    /// the box.
    func decode(heatmap: Tensor, scale: Tensor, offset: Tensor, landmarks: Tensor, inputWidth: Int, inputHeight: Int)
        -> [DetectedFace]
    {
        let rows = heatmap.shape[2], columns = heatmap.shape[3]
        var candidates: [DetectedFace] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let score = Double(heatmap[0, 0, row, column])
                guard score > scoreThreshold else { continue }
                let height = exp(Double(scale[0, 0, row, column])) * 4
                let width = exp(Double(scale[0, 1, row, column])) * 4
                let dy = Double(offset[0, 0, row, column]), dx = Double(offset[0, 1, row, column])
                let left = min(max(0, (Double(column) + dx + 0.5) * 4 - width / 2), Double(inputWidth))
                let top = min(max(0, (Double(row) + dy + 0.5) * 4 - height / 2), Double(inputHeight))
                let right = min(left + width, Double(inputWidth)), bottom = min(top + height, Double(inputHeight))
                let points = (0..<5).map { j in
                    Point(x: Double(landmarks[0, 2 * j + 1, row, column]) * width + left,
                          y: Double(landmarks[0, 2 * j, row, column]) * height + top)
                }
                candidates.append(DetectedFace(
                    box: FaceBox(left: left, top: top, width: right - left, height: bottom - top), score: score, landmarks: points))
            }
        }
        return Self.nonMaximumSuppression(candidates, threshold: nmsThreshold)
    }

    /// Keeps the best-scoring box of each group overlapping by more than `threshold` IoU.
    static func nonMaximumSuppression(_ faces: [DetectedFace], threshold: Double) -> [DetectedFace] {
        var kept: [DetectedFace] = []
        for face in faces.sorted(by: { $0.score > $1.score }) where !kept.contains(where: { $0.box.iou(face.box) > threshold }) {
            kept.append(face)
        }
        return kept
    }

    /// Bilinear resize into a planar float tensor (C, H, W) of 0–255 RGB values.
    static func planarResize(_ image: RGBImage, width: Int, height: Int) -> [Float] {
        var output = [Float](repeating: 0, count: 3 * width * height)
        let plane = width * height
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        image.pixels.withUnsafeBufferPointer { pixels in
            output.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let fy = max(0, (Double(y) + 0.5) * sy - 0.5)
                    let y0 = min(Int(fy), image.height - 1), y1 = min(y0 + 1, image.height - 1)
                    let wy = Float(fy - Double(y0))
                    for x in 0..<width {
                        let fx = max(0, (Double(x) + 0.5) * sx - 0.5)
                        let x0 = min(Int(fx), image.width - 1), x1 = min(x0 + 1, image.width - 1)
                        let wx = Float(fx - Double(x0))
                        let a = (y0 * image.width + x0) * 3, b = (y0 * image.width + x1) * 3
                        let c = (y1 * image.width + x0) * 3, d = (y1 * image.width + x1) * 3
                        for channel in 0..<3 {
                            let top = Float(pixels[a + channel]) * (1 - wx) + Float(pixels[b + channel]) * wx
                            let bottom = Float(pixels[c + channel]) * (1 - wx) + Float(pixels[d + channel]) * wx
                            out[channel * plane + y * width + x] = top * (1 - wy) + bottom * wy
                        }
                    }
                }
            }
        }
        return output
    }
}
