import Foundation
import VisageCore

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

/// How coordinates in a decoded image map to the image's own pixels (when it was decoded smaller).
public struct ImageScale: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public static let identity = ImageScale(x: 1, y: 1)

    public func apply(_ point: Point) -> Point { Point(x: point.x * x, y: point.y * y) }

    public func apply(_ box: FaceBox) -> FaceBox {
        FaceBox(left: box.left * x, top: box.top * y, width: box.width * x, height: box.height * y)
    }

    public func apply(_ face: DetectedFace) -> DetectedFace {
        DetectedFace(box: apply(face.box), score: face.score, landmarks: face.landmarks.map(apply))
    }
}

/// A face found by the detector: box, confidence and five landmarks (left eye, right eye, nose
/// tip, left and right mouth corner, as seen in the image).
public struct DetectedFace: Sendable, Equatable {
    public let box: FaceBox
    public let score: Double
    public let landmarks: [Point]
}

/// CenterFace face detection on OpenVINO. The network sees the whole image at `scale` (its longer
/// side at least `smallestSide`, at most `maxSide`), padded to a coarse grid of input sizes. When
/// that shrinks the image below `tileScale`, small faces would vanish, so the image is also cut
/// into overlapping tiles seen at `tileScale`; all passes are merged by non-maximum suppression.
/// Boxes and landmarks are in the original image's pixels.
public struct FaceDetector: Sendable {
    public let model: InferenceModel
    public var scoreThreshold: Double
    public var nmsThreshold: Double
    public var maxSide: Int
    /// The smallest scale at which the network sees every part of the image: at 0.5 a 40-pixel
    /// face still reaches it 20 pixels high.
    public var tileScale: Double
    /// The largest scale the whole image is seen at. Half size finds the faces full size finds
    /// from 40 pixels up, as the tiles do, in a quarter of the time: on the labelled sets the same
    /// recall (1.000 against 0.986 on `faces`, where full size misses a face filling the photo) and
    /// 2 to 3 times the images a second (BENCHMARKS.md). 1 sees photos up to `maxSide` whole.
    public var scale: Double
    /// Small photos are seen with their longer side at least this long (never enlarged): their
    /// faces are few pixels, and halving a 280-pixel group photo loses half of them.
    public var smallestSide: Int

    public init(model: InferenceModel, scoreThreshold: Double = 0.5, nmsThreshold: Double = 0.3, maxSide: Int = 1280,
                tileScale: Double = 0.5, scale: Double = 0.5, smallestSide: Int = 384) {
        self.model = model
        self.scoreThreshold = scoreThreshold
        self.nmsThreshold = nmsThreshold
        self.maxSide = maxSide
        self.tileScale = tileScale
        self.scale = scale
        self.smallestSide = smallestSide
    }

    /// Loads CenterFace from the model catalog. `scale` defaults to `VISAGE_DETECTION_SCALE`, else 0.5.
    public static func load(from catalog: ModelCatalog, threads: Int = 0, concurrency: Int = 2, streams: Int = 1,
                            scale: Double? = nil) throws -> FaceDetector {
        let model = try InferenceModel(
            path: try catalog.url(of: .centerFace).path, threads: threads, concurrency: concurrency, streams: streams,
            dynamicSpatial: true)
        let scale = scale ?? ProcessInfo.processInfo.environment["VISAGE_DETECTION_SCALE"].flatMap(Double.init) ?? 0.5
        return FaceDetector(model: model, scale: min(1, max(0.05, scale)))
    }

    /// A part of the image and the scale the network sees it at.
    public struct Pass: Sendable {
        public var region: Region
        public var scale: Double
        /// Whether faces touching an inner edge are dropped (a neighbouring tile holds them whole).
        public var isTile: Bool
    }

    /// A rectangle of whole pixels.
    public struct Region: Sendable, Equatable {
        public var left: Int, top: Int, width: Int, height: Int
    }

    public func detect(_ image: RGBImage) async throws -> [DetectedFace] {
        let passes = plan(width: image.width, height: image.height)
        let found = try await withThrowingTaskGroup(of: [DetectedFace].self) { group in
            for pass in passes {
                group.addTask { try await detect(image, pass: pass) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return Self.nonMaximumSuppression(found, threshold: nmsThreshold)
    }

    /// The whole image, plus tiles when the whole image is seen below `tileScale`. Tiles are
    /// `maxSide` network pixels wide and overlap by a quarter of that, so a face up to that size
    /// lies wholly inside at least one tile; larger faces are found by the whole-image pass.
    public func plan(width: Int, height: Int) -> [Pass] {
        let side = Double(max(width, height))
        let wholeScale = min(1, max(scale, Double(smallestSide) / side), Double(maxSide) / side)
        var passes = [Pass(region: Region(left: 0, top: 0, width: width, height: height), scale: wholeScale, isTile: false)]
        guard wholeScale < tileScale else { return passes }
        let tile = Int(Double(maxSide) / tileScale), overlap = tile / 4
        func starts(_ length: Int) -> [Int] {
            guard length > tile else { return [0] }
            let count = Int((Double(length - overlap) / Double(tile - overlap)).rounded(.up))
            let step = Double(length - tile) / Double(count - 1)
            return (0..<count).map { Int((Double($0) * step).rounded()) }
        }
        for top in starts(height) {
            for left in starts(width) {
                passes.append(Pass(region: Region(left: left, top: top, width: min(tile, width - left), height: min(tile, height - top)),
                                   scale: tileScale, isTile: true))
            }
        }
        return passes
    }

    /// Runs the network on one pass and maps its faces to image coordinates.
    func detect(_ image: RGBImage, pass: Pass) async throws -> [DetectedFace] {
        let region = pass.region
        let scaledWidth = max(1, Int((Double(region.width) * pass.scale).rounded()))
        let scaledHeight = max(1, Int((Double(region.height) * pass.scale).rounded()))
        // The scaled region sits at the top left of an input padded to a multiple of
        // `Self.inputGrid` on each side: few distinct input shapes, so OpenVINO reuses what it
        // prepared for a shape instead of preparing every image's own (tens of milliseconds).
        let inputWidth = Self.padded(scaledWidth), inputHeight = Self.padded(scaledHeight)
        let input = try await Blocking.run {
            Self.planarResize(image, region: region, width: scaledWidth, height: scaledHeight, intoWidth: inputWidth, height: inputHeight)
        }
        let outputs = try await model.run(input: input, shape: [1, 3, inputHeight, inputWidth])
        guard outputs.count == 4 else { throw InferenceError(description: "CenterFace returned \(outputs.count) outputs") }
        var faces = decode(heatmap: outputs[0], scale: outputs[1], offset: outputs[2], landmarks: outputs[3],
                           inputWidth: scaledWidth, inputHeight: scaledHeight)
        if pass.isTile {
            // A face cut by an edge shared with another tile is found whole in that tile.
            let margin = 2.0
            faces.removeAll { face in
                (region.left > 0 && face.box.left < margin)
                    || (region.top > 0 && face.box.top < margin)
                    || (region.left + region.width < image.width && face.box.left + face.box.width > Double(scaledWidth) - margin)
                    || (region.top + region.height < image.height && face.box.top + face.box.height > Double(scaledHeight) - margin)
            }
        }
        let sx = Double(region.width) / Double(scaledWidth), sy = Double(region.height) / Double(scaledHeight)
        let dx = Double(region.left), dy = Double(region.top)
        return faces.map { face in
            DetectedFace(
                box: FaceBox(left: face.box.left * sx + dx, top: face.box.top * sy + dy,
                             width: face.box.width * sx, height: face.box.height * sy),
                score: face.score,
                landmarks: face.landmarks.map { Point(x: $0.x * sx + dx, y: $0.y * sy + dy) })
        }
    }

    /// Input sides are multiples of this (CenterFace itself needs multiples of 32).
    static let inputGrid = 128

    static func padded(_ side: Int) -> Int {
        max(inputGrid, (side + inputGrid - 1) / inputGrid * inputGrid)
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

    /// Bilinear resize of `region` to `width` × `height` into the top left of a zero-filled
    /// planar float tensor (C, H, W) of 0–255 RGB values sized `intoWidth` × `intoHeight`.
    static func planarResize(_ image: RGBImage, region: Region, width: Int, height: Int, intoWidth: Int,
                             height intoHeight: Int) -> [Float] {
        var output = [Float](repeating: 0, count: 3 * intoWidth * intoHeight)
        let plane = intoWidth * intoHeight
        let sx = Double(region.width) / Double(width), sy = Double(region.height) / Double(height)
        let lastX = region.left + region.width - 1, lastY = region.top + region.height - 1
        image.pixels.withUnsafeBufferPointer { pixels in
            output.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let fy = max(0, (Double(y) + 0.5) * sy - 0.5)
                    let y0 = min(region.top + Int(fy), lastY), y1 = min(y0 + 1, lastY)
                    let wy = Float(fy - fy.rounded(.down))
                    for x in 0..<width {
                        let fx = max(0, (Double(x) + 0.5) * sx - 0.5)
                        let x0 = min(region.left + Int(fx), lastX), x1 = min(x0 + 1, lastX)
                        let wx = Float(fx - fx.rounded(.down))
                        let a = (y0 * image.width + x0) * 3, b = (y0 * image.width + x1) * 3
                        let c = (y1 * image.width + x0) * 3, d = (y1 * image.width + x1) * 3
                        for channel in 0..<3 {
                            let top = Float(pixels[a + channel]) * (1 - wx) + Float(pixels[b + channel]) * wx
                            let bottom = Float(pixels[c + channel]) * (1 - wx) + Float(pixels[d + channel]) * wx
                            out[channel * plane + y * intoWidth + x] = top * (1 - wy) + bottom * wy
                        }
                    }
                }
            }
        }
        return output
    }
}
