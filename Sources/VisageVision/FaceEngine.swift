import Foundation
import VisageCore

/// One face as the engine sees it: where it is, its landmarks, its embedding and attributes.
public struct AnalyzedFace: Sendable {
    public let detection: DetectedFace
    public let landmarks: [Point]
    public let embedding: [Float]
    public let attributes: FaceAttributes
}

/// An image with its header facts and the faces found in it.
public struct ImageAnalysis: Sendable {
    public let header: ImageHeader
    /// Size of the upright (orientation-applied) image the face coordinates refer to.
    public let width: Int
    public let height: Int
    public let faces: [AnalyzedFace]
    /// Whole-image quality in [0, 1]: 0.6 × sharpness + 0.4 × exposure, both measured on the
    /// whole image as FaceMeasures measures them on a face.
    public let overallQuality: Double

    /// The face with the largest box, if any.
    public var largestFace: AnalyzedFace? {
        faces.max { $0.detection.box.width * $0.detection.box.height < $1.detection.box.width * $1.detection.box.height }
    }
}

/// Where one analysis spent its time, stage by stage (`visage bench faces --stages`). Waiting
/// for a turn (the decoder, the pixel budget, a free network) is not counted.
public struct StageTimes: Sendable {
    public var decode = Duration.zero
    public var detect = Duration.zero
    public var landmarks = Duration.zero
    public var embed = Duration.zero
    public var attributes = Duration.zero
    public var quality = Duration.zero

    public init() {}

    /// The stages in pipeline order, named.
    public var named: [(name: String, time: Duration)] {
        [("decode", decode), ("detect", detect), ("landmarks", landmarks), ("embed", embed), ("attributes", attributes),
         ("quality", quality)]
    }
}

/// The whole face pipeline: decode, detect, landmarks (68, or 5), aligned embedding, attributes. Models
/// are loaded once; `analyze` may be called concurrently.
public struct FaceEngine: Sendable {
    public let decoder: ImageDecoder
    public let detector: FaceDetector
    public let landmarker: FaceLandmarker
    public let embedder: FaceEmbedder
    /// Decoded pixels in memory at once across this engine's analyses: a burst of small files that
    /// decode to huge images waits instead of exhausting memory.
    public let pixels: AsyncBudget

    /// Whether images too large for the detector to see whole are decoded smaller (at the scale
    /// of its tiles, so it finds the same faces).
    public let shrinkOnLoad: Bool

    /// `pixelBudget`: decoded pixels in memory at once (64 megapixels, about 200 MB of RGB: one
    /// image at the decoder's 50-megapixel limit and room for ordinary photos beside it).
    /// `shrinkOnLoad` defaults to on unless `VISAGE_SHRINK_ON_LOAD=0`.
    public init(decoder: ImageDecoder = ImageDecoder(), detector: FaceDetector, landmarker: FaceLandmarker,
                embedder: FaceEmbedder, pixelBudget: Int = 64_000_000,
                shrinkOnLoad: Bool = ProcessInfo.processInfo.environment["VISAGE_SHRINK_ON_LOAD"] != "0") {
        self.decoder = decoder
        self.detector = detector
        self.landmarker = landmarker
        self.embedder = embedder
        self.pixels = AsyncBudget(capacity: max(pixelBudget, decoder.maxPixels))
        self.shrinkOnLoad = shrinkOnLoad
    }

    /// What to decode an image of this size at: 1, or the power of two the detector's tiles see
    /// it at when it cannot see the image whole at its tile scale (sides above 2560 pixels by
    /// default). Landmarks and embeddings then come from the same smaller pixels; faces are at
    /// least 40 pixels there, as the detector needs.
    public func shrinkFactor(width: Int, height: Int) -> Int {
        guard shrinkOnLoad, detector.tileScale > 0, detector.tileScale < 1,
              Double(max(width, height)) * detector.tileScale > Double(detector.maxSide) else { return 1 }
        var factor = 1
        while Double(factor * 2) <= 1 / detector.tileScale { factor *= 2 }
        return factor
    }

    /// Loads every face model from the catalog. `threads` is OpenVINO's thread count (0: its own
    /// choice); `concurrency` the number of images analysed at once. `flip` (default: the
    /// environment's `VISAGE_EMBEDDING_FLIP=1`) embeds each face with its mirror image too; off
    /// by default: about 2.4 times the time per image for about a point of accuracy that does not
    /// hold on every test set (BENCHMARKS.md).
    /// `streams` (default: `VISAGE_INFERENCE_STREAMS`, else 1) is how many inferences of each
    /// network run side by side (see `InferenceModel`). One is the default: on two cores two
    /// streams analysed 5% more photos a second with two at once, took 24% longer for a photo
    /// alone and 130 MB more memory (`visage bench faces`, BENCHMARKS.md).
    /// `landmarks` (default: `VISAGE_LANDMARKS`, else 68) is the shape predictor (`LandmarkModel`).
    public static func load(catalog: ModelCatalog = .discover(), threads: Int = 0, concurrency: Int = 2, streams: Int? = nil,
                            flip: Bool = ProcessInfo.processInfo.environment["VISAGE_EMBEDDING_FLIP"] == "1",
                            landmarks: LandmarkModel? = nil) throws -> FaceEngine {
        let streams = max(1, streams ?? ProcessInfo.processInfo.environment["VISAGE_INFERENCE_STREAMS"].flatMap(Int.init) ?? 1)
        let landmarks = try landmarks ?? LandmarkModel.configured()
        return FaceEngine(
            detector: try FaceDetector.load(from: catalog, threads: threads, concurrency: concurrency, streams: streams),
            landmarker: try FaceLandmarker(path: try catalog.url(of: landmarks.file).path, model: landmarks),
            embedder: try FaceEmbedder.load(from: catalog, threads: threads, concurrency: concurrency, streams: streams, flip: flip))
    }

    public func analyze(_ data: some ContiguousBytes) async throws -> ImageAnalysis {
        try await analyzeTimed(data).analysis
    }

    public func analyze(_ image: RGBImage, header: ImageHeader) async throws -> ImageAnalysis {
        var times = StageTimes()
        return try await analyze(image, header: header, shrunk: false, times: &times)
    }

    /// `analyze`, with the time each stage took.
    public func analyzeTimed(_ data: some ContiguousBytes) async throws -> (analysis: ImageAnalysis, times: StageTimes) {
        // Decoding is libvips's CPU work: it runs off the cooperative threads like inference.
        let bytes = data.withUnsafeBytes { [UInt8]($0) }
        // libvips works one image at a time (see `Vips.exclusive`); waiting for it holds no thread.
        let declared = try await Vips.gate.run { try await Blocking.run { [decoder] in try decoder.header(of: bytes) } }
        let shrink = shrinkFactor(width: declared.storedWidth, height: declared.storedHeight)
        // The decoded pixels stay in memory until the analysis ends: the budget counts them at full
        // size even when decoded smaller, since detection's tiles of a large image (all at once)
        // need about as much again as the pixels would.
        return try await pixels.run(declared.storedWidth * declared.storedHeight) {
            var times = StageTimes()
            let (decoded, decoding) = try await Vips.gate.run {
                try await Blocking.run { [decoder] in try Self.measured { try decoder.decode(bytes, shrink: shrink) } }
            }
            times.decode = decoding
            let analysis = try await analyze(decoded.image, header: decoded.header, shrunk: shrink > 1, times: &times)
            return (analysis, times)
        }
    }

    /// When `shrunk`, `image` is `header`'s image decoded smaller; what is found is given in the
    /// image's own (upright) pixels.
    private func analyze(_ image: RGBImage, header: ImageHeader, shrunk: Bool, times: inout StageTimes) async throws -> ImageAnalysis {
        let scale = shrunk ? ImageScale(x: Double(header.width) / Double(image.width), y: Double(header.height) / Double(image.height))
            : .identity
        var detector = self.detector
        // Decoded smaller, the image's tiles are seen at a larger share of the decoded pixels.
        detector.tileScale = min(1, detector.tileScale * min(scale.x, scale.y))
        // Detection's time includes waiting for a free infer request.
        let (detections, detecting) = try await Self.measured { try await detector.detect(image) }
        times.detect = detecting
        // Landmarks face by face, then every face of the image through the network in one batch.
        let (faces, stages) = try await Blocking.run { [landmarker, embedder] in
            let (landmarks, landmarking) = try Self.measured { try detections.map { try landmarker.landmarks(in: image, box: $0.box) } }
            let (embeddings, embedding) = try Self.measured { try embedder.embeddings(of: image, faces: landmarks) }
            let (faces, measuring) = Self.measured {
                zip(detections, zip(landmarks, embeddings)).map { detection, face in
                    AnalyzedFace(detection: scale.apply(detection), landmarks: face.0.map(scale.apply), embedding: face.1,
                                 attributes: FaceMeasures.attributes(detection: detection, landmarks: face.0, image: image, scale: scale))
                }
            }
            return (faces, [landmarking, embedding, measuring])
        }
        (times.landmarks, times.embed, times.attributes) = (stages[0], stages[1], stages[2])
        // A pass over every pixel: seconds on a very large image, so off the cooperative threads.
        let (quality, scoring) = try await Blocking.run {
            Self.measured {
                let whole = FaceBox(left: 0, top: 0, width: Double(image.width), height: Double(image.height))
                return 0.6 * FaceMeasures.sharpness(image, box: whole) + 0.4 * FaceMeasures.exposure(image, box: whole)
            }
        }
        times.quality = scoring
        return ImageAnalysis(header: header, width: shrunk ? header.width : image.width, height: shrunk ? header.height : image.height,
                             faces: faces, overallQuality: quality)
    }

    /// `body`'s result and the time it took.
    static func measured<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
        let start = ContinuousClock.now
        let result = try body()
        return (result, ContinuousClock.now - start)
    }

    static func measured<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
        let start = ContinuousClock.now
        let result = try await body()
        return (result, ContinuousClock.now - start)
    }
}
