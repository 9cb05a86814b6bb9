import CDlib
import Foundation

/// dlib's 68-point shape predictor. Landmark indices follow the iBUG 300-W layout: 0–16 jaw,
/// 17–26 brows, 27–35 nose, 36–47 eyes, 48–67 mouth (60–67 the inner lips).
public final class FaceLandmarker: Sendable {
    private let handle: NativeHandle

    public init(path: String) throws {
        var pointer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        guard visage_dlib_landmarker_load(path, &pointer, &error, error.count) == 0, let pointer else {
            throw InferenceError(description: "cannot load \(path): \(cText(error))")
        }
        handle = NativeHandle(pointer, free: visage_dlib_landmarker_free)
    }

    /// The 68 landmarks of the face in `box`. Thread-safe: the predictor is read-only.
    public func landmarks(in image: RGBImage, box: FaceBox) throws -> [Point] {
        var points = [Double](repeating: 0, count: 136)
        let rectangle = box.landmarkRectangle
        let count = image.pixels.withUnsafeBufferPointer { pixels in
            visage_dlib_landmarks(handle.pointer, pixels.baseAddress, image.width, image.height,
                                  rectangle[0], rectangle[1], rectangle[2], rectangle[3], &points)
        }
        guard count == 68 else { throw InferenceError(description: "the shape predictor returned \(count) points") }
        return (0..<68).map { Point(x: points[2 * $0], y: points[2 * $0 + 1]) }
    }
}

extension FaceBox {
    /// The box in whole pixels as the shape predictor takes it: left, top, right, bottom.
    public var landmarkRectangle: [Int] {
        [Int(left.rounded()), Int(top.rounded()), Int((left + width).rounded()), Int((top + height).rounded())]
    }
}

/// dlib's ResNet face embedding (128 numbers; same person when the Euclidean distance is small).
/// A network object runs one face at a time, so a small pool of them serves concurrent callers.
public final class FaceEmbedder: Sendable {
    private let networks: ExclusivePool
    /// Whether each face is embedded with its mirror image too, the two descriptors averaged
    /// (test-time augmentation; about twice the network time).
    public let flip: Bool

    public init(path: String, concurrency: Int = 2, flip: Bool = false) throws {
        self.flip = flip
        var loaded: [NativeHandle] = []
        for _ in 0..<max(1, concurrency) {
            var pointer: OpaquePointer?
            var error = [CChar](repeating: 0, count: 512)
            guard visage_dlib_embedder_load(path, &pointer, &error, error.count) == 0, let pointer else {
                throw InferenceError(description: "cannot load \(path): \(cText(error))")
            }
            loaded.append(NativeHandle(pointer, free: visage_dlib_embedder_free))
        }
        networks = ExclusivePool(loaded)
    }

    /// The descriptor of the face with these 68 landmarks, aligned as dlib aligns it (150×150
    /// chip, 25% padding). Blocks while the network runs.
    public func embedding(of image: RGBImage, landmarks: [Point]) throws -> [Float] {
        var flat: [Double] = []
        flat.reserveCapacity(landmarks.count * 2)
        for point in landmarks { flat += [point.x, point.y] }
        var descriptor = [Float](repeating: 0, count: 128)
        var error = [CChar](repeating: 0, count: 512)
        let status = networks.withItem { network in
            image.pixels.withUnsafeBufferPointer { pixels in
                visage_dlib_embed(network.pointer, pixels.baseAddress, image.width, image.height, flat, landmarks.count,
                                  flip ? 1 : 0, &descriptor, &error, error.count)
            }
        }
        guard status == 0 else { throw InferenceError(description: "embedding failed: \(cText(error))") }
        return descriptor
    }
}

/// Text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
