import CDlib
import Foundation

/// Which of dlib's shape predictors places a face's landmarks. The 68-point model (the default)
/// feeds alignment, head pose, the mouth and liveness; its training data bars commercial use. The
/// 5-point model (`VISAGE_LANDMARKS=5`) is free of that and aligns faces as well for dlib's
/// embedding, but head pose then comes from the detector's five points, the mouth is not measured
/// and liveness is unavailable (docs/face-attributes.md).
public enum LandmarkModel: Int, Sendable {
    case points68 = 68
    case points5 = 5

    public var file: ModelFile { self == .points68 ? .dlibLandmarks68 : .dlibLandmarks5 }

    /// `VISAGE_LANDMARKS` (5 or 68), else 68.
    public static func configured(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LandmarkModel {
        guard let value = environment["VISAGE_LANDMARKS"], !value.isEmpty else { return .points68 }
        guard let model = Int(value).flatMap(LandmarkModel.init(rawValue:)) else {
            throw InferenceError(description: "VISAGE_LANDMARKS must be 5 or 68, not '\(value)'")
        }
        return model
    }
}

/// A dlib shape predictor. With 68 points, indices follow the iBUG 300-W layout: 0–16 jaw,
/// 17–26 brows, 27–35 nose, 36–47 eyes, 48–67 mouth (60–67 the inner lips); with 5, dlib's
/// layout: the outer and inner corner of the image-right eye, then of the image-left eye, then
/// the base of the nose.
public final class FaceLandmarker: Sendable {
    private let handle: NativeHandle
    public let model: LandmarkModel

    public init(path: String, model: LandmarkModel = .points68) throws {
        self.model = model
        var pointer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        guard visage_dlib_landmarker_load(path, &pointer, &error, error.count) == 0, let pointer else {
            throw InferenceError(description: "cannot load \(path): \(cText(error))")
        }
        handle = NativeHandle(pointer, free: visage_dlib_landmarker_free)
    }

    /// The landmarks of the face in `box`. Thread-safe: the predictor is read-only.
    public func landmarks(in image: RGBImage, box: FaceBox) throws -> [Point] {
        let expected = model.rawValue
        var points = [Double](repeating: 0, count: 2 * 68)
        let rectangle = box.landmarkRectangle
        let count = image.pixels.withUnsafeBufferPointer { pixels in
            visage_dlib_landmarks(handle.pointer, pixels.baseAddress, image.width, image.height,
                                  rectangle[0], rectangle[1], rectangle[2], rectangle[3], &points)
        }
        guard count == expected else {
            throw InferenceError(description: "the shape predictor returned \(count) points, not \(expected)")
        }
        return (0..<expected).map { Point(x: points[2 * $0], y: points[2 * $0 + 1]) }
    }
}

extension FaceBox {
    /// The box in whole pixels as the shape predictor takes it: left, top, right, bottom.
    public var landmarkRectangle: [Int] {
        [Int(left.rounded()), Int(top.rounded()), Int((left + width).rounded()), Int((top + height).rounded())]
    }
}

/// dlib's ResNet face embedding (128 numbers; same person when the Euclidean distance is small).
/// Faces are cut out as dlib aligns them (150×150 chip, 25% padding); the network then runs on
/// OpenVINO when its converted form is at hand (`scripts/convert-models` writes it at install
/// time from dlib's own description of the network), else on dlib's own code. The two agree to a
/// cosine of at least 0.999 (`tests/test_dlib_parity.py`).
public final class FaceEmbedder: Sendable {
    /// What runs the network.
    public enum Runtime: String, Sendable {
        case openVINO = "openvino"
        case dlib
    }

    private enum Network: Sendable {
        case openVINO(InferenceModel)
        case dlib(ExclusivePool)
    }

    private let network: Network
    /// Whether each face is embedded with its mirror image too, the two descriptors averaged
    /// (test-time augmentation; about twice the network time).
    public let flip: Bool
    public var runtime: Runtime {
        switch network {
        case .openVINO: return .openVINO
        case .dlib: return .dlib
        }
    }

    /// The network from dlib's model file at `path`, run by dlib (`concurrency` copies of it, since
    /// one runs one batch at a time).
    public init(path: String, concurrency: Int = 2, flip: Bool = false) throws {
        self.flip = flip
        var loaded: [NativeHandle] = []
        for _ in 0..<max(1, concurrency) { loaded.append(try Self.loadDlib(path)) }
        network = .dlib(ExclusivePool(loaded))
    }

    /// The converted network at `openVINOPath` (OpenVINO IR), run by OpenVINO.
    public init(openVINOPath: String, threads: Int = 0, concurrency: Int = 2, streams: Int = 1, flip: Bool = false) throws {
        self.flip = flip
        network = .openVINO(try InferenceModel(path: openVINOPath, threads: threads, concurrency: concurrency, streams: streams))
    }

    /// The network as the catalog has it: on OpenVINO where the converted form is installed and
    /// `runtime` allows it (default: `VISAGE_EMBEDDING_RUNTIME`, `openvino` unless set to `dlib`),
    /// otherwise dlib's model file run by dlib.
    public static func load(from catalog: ModelCatalog, threads: Int = 0, concurrency: Int = 2, streams: Int = 1, flip: Bool = false,
                            runtime: Runtime? = nil) throws -> FaceEmbedder {
        let wanted = runtime ?? Runtime(rawValue: ProcessInfo.processInfo.environment["VISAGE_EMBEDDING_RUNTIME"] ?? "") ?? .openVINO
        if wanted == .openVINO, let converted = try? catalog.url(of: .dlibResNetOpenVINO) {
            return try FaceEmbedder(openVINOPath: converted.path, threads: threads, concurrency: concurrency, streams: streams, flip: flip)
        }
        return try FaceEmbedder(path: try catalog.url(of: .dlibResNet).path, concurrency: concurrency, flip: flip)
    }

    private static func loadDlib(_ path: String) throws -> NativeHandle {
        var pointer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        guard visage_dlib_embedder_load(path, &pointer, &error, error.count) == 0, let pointer else {
            throw InferenceError(description: "cannot load \(path): \(cText(error))")
        }
        return NativeHandle(pointer, free: visage_dlib_embedder_free)
    }

    /// Side of the aligned chip the network reads.
    public static let chipSide = Int(visage_dlib_chip_size)

    /// The descriptor of the face with these landmarks (68, or dlib's 5). Blocks while the network runs.
    public func embedding(of image: RGBImage, landmarks: [Point]) throws -> [Float] {
        try embeddings(of: image, faces: [landmarks])[0]
    }

    /// Descriptors of several faces of one image, in one batch through the network.
    public func embeddings(of image: RGBImage, faces: [[Point]]) throws -> [[Float]] {
        guard !faces.isEmpty else { return [] }
        let side = Self.chipSide
        let chipBytes = side * side * 3
        // With `flip`, the mirror images follow the chips in the same batch.
        var chips = [UInt8](repeating: 0, count: chipBytes * faces.count * (flip ? 2 : 1))
        for (index, landmarks) in faces.enumerated() {
            let flat = landmarks.flatMap { [$0.x, $0.y] }
            let status = image.pixels.withUnsafeBufferPointer { pixels in
                chips.withUnsafeMutableBufferPointer { out in
                    visage_dlib_chip(pixels.baseAddress, image.width, image.height, flat, landmarks.count,
                                     out.baseAddress! + index * chipBytes, flip ? out.baseAddress! + (faces.count + index) * chipBytes : nil)
                }
            }
            guard status == 0 else { throw InferenceError(description: "cannot cut out the face for its embedding") }
        }
        let descriptors = try run(chips, count: chips.count / chipBytes)
        return faces.indices.map { index in
            let own = Array(descriptors[index * 128..<(index + 1) * 128])
            guard flip else { return own }
            let mirrored = descriptors[(faces.count + index) * 128..<(faces.count + index + 1) * 128]
            return zip(own, mirrored).map { ($0 + $1) / 2 }
        }
    }

    /// 128 floats per chip, chips in order.
    private func run(_ chips: [UInt8], count: Int) throws -> [Float] {
        let side = Self.chipSide
        switch network {
        case let .openVINO(model):
            // The converted network takes the chips as they are (N × 150 × 150 × RGB, 0–255) and
            // applies dlib's input scaling itself.
            let output = try model.runBlocking(input: chips.map(Float.init), shape: [count, side, side, 3])
            guard let descriptors = output.first, descriptors.values.count == count * 128 else {
                throw InferenceError(description: "the embedding network returned an unexpected shape")
            }
            return descriptors.values
        case let .dlib(pool):
            var descriptors = [Float](repeating: 0, count: count * 128)
            var error = [CChar](repeating: 0, count: 512)
            let status = pool.withItem { network in
                visage_dlib_embed_chips(network.pointer, chips, count, &descriptors, &error, error.count)
            }
            guard status == 0 else { throw InferenceError(description: "embedding failed: \(cText(error))") }
            return descriptors
        }
    }

    /// Writes the dlib network at `path` with its weights as dlib describes it (`net_to_xml`).
    public static func writeDlibDescription(of path: String, to output: String) throws {
        let handle = try loadDlib(path)
        var error = [CChar](repeating: 0, count: 512)
        guard visage_dlib_embedder_write_xml(handle.pointer, output, &error, error.count) == 0 else {
            throw InferenceError(description: "cannot write \(output): \(cText(error))")
        }
    }
}

/// Text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
