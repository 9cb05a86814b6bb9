import Foundation

/// Head rotation in degrees. Pitch: positive when the face looks up. Yaw: positive when the face
/// turns towards the image's right. Roll: positive when the head tilts clockwise in the image.
public struct HeadPose: Sendable, Equatable, Codable {
    public var pitch: Double
    public var roll: Double
    public var yaw: Double

    public init(pitch: Double, roll: Double, yaw: Double) {
        self.pitch = pitch
        self.roll = roll
        self.yaw = yaw
    }
}

/// Whether the mouth is open, from the gap between the inner lips.
public enum MouthState: String, Sendable, Codable {
    case open
    case close
}

/// The measured attributes of one face. Every value comes from the detector, the 68 landmarks or
/// the pixels; attributes no model here can measure (age, gender, emotion, glasses, hat, mask,
/// beard) are not produced, nor the mouth without the 68 landmarks (`VISAGE_LANDMARKS=5`). The
/// measures are described in docs/face-attributes.md.
public struct FaceAttributes: Sendable, Equatable {
    public let boundary: FaceBox
    public let headPose: HeadPose
    public let sharpness: Double
    public let faceQuality: Double
    public let mouth: MouthState?
    public let mouthConfidence: Double?
    /// The detector's confidence that this is a face.
    public let figureConfidence: Double
}

/// Computes `FaceAttributes` from a detection, its landmarks and the image.
public enum FaceMeasures {
    /// A generic 3-D face (x right, y up, z towards the viewer; arbitrary units) at six
    /// landmarks: nose tip (30), chin (8), outer eye corners (36, 45), mouth corners (48, 54).
    static let meanFace: [(index: Int, x: Double, y: Double, z: Double)] = [
        (30, 0, 0, 0), (8, 0, -330, -65), (36, -225, 170, -135), (45, 225, 170, -135),
        (48, -150, -150, -125), (54, 150, -150, -125),
    ]
    /// The same face at the detector's five points: eye centres (midway between the corners),
    /// nose tip, mouth corners. Without the chin, pitch rests on the nose alone.
    static let meanFaceFive: [(index: Int, x: Double, y: Double, z: Double)] = [
        (0, -150, 170, -125), (1, 150, 170, -125), (2, 0, 0, 0), (3, -150, -150, -125), (4, 150, -150, -125),
    ]

    /// `detection` and `landmarks` are in `image`'s pixels; `scale` maps them to the pixels of
    /// the image as stored when it was decoded smaller, for the boundary and the face's size.
    /// Without 68 landmarks, head pose comes from the detector's five points and the mouth is
    /// not measured.
    public static func attributes(detection: DetectedFace, landmarks: [Point], image: RGBImage,
                                  scale: ImageScale = .identity) -> FaceAttributes {
        let full = landmarks.count == 68
        let pose = full ? headPose(landmarks) : headPose(detected: detection.landmarks)
        let sharp = sharpness(image, box: detection.box)
        let (mouth, mouthConfidence): (MouthState?, Double?) = full ? mouthState(landmarks) : (nil, nil)
        let boundary = scale.apply(detection.box)
        let quality = faceQuality(box: boundary, pose: pose, sharpness: sharp,
                                  exposure: exposure(image, box: detection.box), detectorScore: detection.score)
        return FaceAttributes(
            boundary: boundary, headPose: pose, sharpness: sharp, faceQuality: quality, mouth: mouth,
            mouthConfidence: mouthConfidence, figureConfidence: detection.score)
    }

    /// Head pose by fitting a scaled orthographic projection of the mean face to the landmarks
    /// (least squares), then reading Euler angles off the rotation.
    public static func headPose(_ landmarks: [Point]) -> HeadPose { headPose(landmarks, model: meanFace) }

    /// Head pose from the detector's five points, the same way (`VISAGE_LANDMARKS=5`).
    public static func headPose(detected points: [Point]) -> HeadPose {
        guard points.count == 5 else { return HeadPose(pitch: 0, roll: 0, yaw: 0) }
        return headPose(points, model: meanFaceFive)
    }

    static func headPose(_ landmarks: [Point], model meanFace: [(index: Int, x: Double, y: Double, z: Double)]) -> HeadPose {
        let model = meanFace.map { [$0.x, $0.y, $0.z] }
        let image = meanFace.map { [landmarks[$0.index].x, -landmarks[$0.index].y] }  // y up, like the model
        let n = Double(model.count)
        let modelMean = (0..<3).map { axis in model.reduce(0) { $0 + $1[axis] } / n }
        let imageMean = (0..<2).map { axis in image.reduce(0) { $0 + $1[axis] } / n }
        let X = model.map { point in (0..<3).map { point[$0] - modelMean[$0] } }
        let x = image.map { point in (0..<2).map { point[$0] - imageMean[$0] } }
        // A = x·Xᵀ·(X·Xᵀ)⁻¹, a 2×3 matrix whose rows are the scaled first two rotation rows.
        var xxt = [[Double]](repeating: [0, 0, 0], count: 3)
        var yxt = [[Double]](repeating: [0, 0, 0], count: 2)
        for k in 0..<model.count {
            for i in 0..<3 { for j in 0..<3 { xxt[i][j] += X[k][i] * X[k][j] } }
            for i in 0..<2 { for j in 0..<3 { yxt[i][j] += x[k][i] * X[k][j] } }
        }
        guard let inverse = invert3(xxt) else { return HeadPose(pitch: 0, roll: 0, yaw: 0) }
        let a = (0..<2).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + yxt[i][$1] * inverse[$1][j] } } }
        let r1 = normalize(a[0])
        let r2 = normalize(subtract(a[1], scale(r1, dot(r1, a[1]))))
        let r3 = cross(r1, r2)
        // R = Rz(roll)·Rx(pitch)·Ry(yaw): yaw, then pitch, then the in-plane roll, so turning
        // the photo changes only the roll. Signs follow the HeadPose documentation.
        let degrees = 180 / Double.pi
        let yaw = atan2(-r3[0], r3[2]) * degrees
        let pitch = -asin(max(-1, min(1, r3[1]))) * degrees
        let roll = atan2(r1[1], r2[1]) * degrees
        return HeadPose(pitch: pitch, roll: roll, yaw: yaw)
    }

    /// Variance of the Laplacian of the face, in grey levels, on the face scaled to 112 pixels
    /// wide (so the measure does not depend on the photo's resolution), mapped to [0, 1) by
    /// v / (v + 100): crisp faces score above 0.8, visibly blurred ones below 0.5.
    public static func sharpness(_ image: RGBImage, box: FaceBox) -> Double {
        let grey = greyCrop(image, box: box, width: 112)
        guard grey.height > 2 else { return 0 }
        var sum = 0.0, sumSquares = 0.0, count = 0.0
        for y in 1..<(grey.height - 1) {
            for x in 1..<(grey.width - 1) {
                let i = y * grey.width + x
                let laplacian = grey.values[i - 1] + grey.values[i + 1] + grey.values[i - grey.width]
                    + grey.values[i + grey.width] - 4 * grey.values[i]
                sum += laplacian
                sumSquares += laplacian * laplacian
                count += 1
            }
        }
        let mean = sum / count
        let variance = sumSquares / count - mean * mean
        return variance / (variance + 100)
    }

    /// 1 for a face of mid-grey mean brightness, falling linearly to 0 at black or white.
    public static func exposure(_ image: RGBImage, box: FaceBox) -> Double {
        let grey = greyCrop(image, box: box, width: 64)
        guard !grey.values.isEmpty else { return 0 }
        let mean = grey.values.reduce(0, +) / Double(grey.values.count)
        return max(0, 1 - abs(mean - 128) / 128)
    }

    /// A weighted geometric mean of five factors in [0, 1], chosen so that a value above 0.8
    /// means "good enough to found a person": face height (1 from 100 px, 0 at 40 px), pose
    /// (1 up to 15° of yaw or pitch, 0 at 60°), sharpness (1 from 0.5), exposure, and the
    /// detector's score. Weights 0.3, 0.25, 0.25, 0.1, 0.1.
    public static func faceQuality(box: FaceBox, pose: HeadPose, sharpness: Double, exposure: Double,
                                   detectorScore: Double) -> Double {
        let size = clamp((min(box.width, box.height) - 40) / 60)
        let turn = max(abs(pose.yaw), abs(pose.pitch))
        let poseFactor = clamp(1 - (turn - 15) / 45)
        let factors: [(Double, Double)] = [
            (size, 0.3), (poseFactor, 0.25), (clamp(sharpness / 0.5), 0.25), (clamp(exposure), 0.1), (clamp(detectorScore), 0.1),
        ]
        guard factors.allSatisfy({ $0.0 > 0 }) else { return 0 }
        return exp(factors.reduce(0) { $0 + $1.1 * log($1.0) })
    }

    /// The inner-lip gap (mean of the three vertical gaps 61–67, 62–66, 63–65) over the mouth
    /// width (48–54). Open above 0.1; the confidence is a logistic of the distance to 0.1.
    public static func mouthState(_ landmarks: [Point]) -> (MouthState, Double) {
        func gap(_ a: Int, _ b: Int) -> Double { hypot(landmarks[a].x - landmarks[b].x, landmarks[a].y - landmarks[b].y) }
        let width = gap(48, 54)
        guard width > 0 else { return (.close, 0.5) }
        let ratio = (gap(61, 67) + gap(62, 66) + gap(63, 65)) / 3 / width
        let pOpen = 1 / (1 + exp(-(ratio - 0.1) * 40))
        return pOpen >= 0.5 ? (.open, pOpen) : (.close, 1 - pOpen)
    }

    // MARK: helpers

    struct Grey {
        let width: Int
        let height: Int
        let values: [Double]
    }

    /// The box cut from the image, as grey levels, resampled to `width` pixels wide (nearest).
    static func greyCrop(_ image: RGBImage, box: FaceBox, width: Int) -> Grey {
        let left = max(0, box.left), top = max(0, box.top)
        let right = min(Double(image.width), box.left + box.width), bottom = min(Double(image.height), box.top + box.height)
        guard right - left >= 2, bottom - top >= 2 else { return Grey(width: 0, height: 0, values: []) }
        let step = (right - left) / Double(width)
        let height = max(1, Int((bottom - top) / step))
        var values = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            let sy = min(image.height - 1, Int(top + (Double(y) + 0.5) * step))
            for x in 0..<width {
                let sx = min(image.width - 1, Int(left + (Double(x) + 0.5) * step))
                let i = (sy * image.width + sx) * 3
                values[y * width + x] = 0.299 * Double(image.pixels[i]) + 0.587 * Double(image.pixels[i + 1])
                    + 0.114 * Double(image.pixels[i + 2])
            }
        }
        return Grey(width: width, height: height, values: values)
    }

    static func clamp(_ value: Double) -> Double { min(1, max(0, value)) }
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func scale(_ a: [Double], _ s: Double) -> [Double] { a.map { $0 * s } }
    static func subtract(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 - $1 } }
    static func normalize(_ a: [Double]) -> [Double] {
        let length = dot(a, a).squareRoot()
        return length > 0 ? scale(a, 1 / length) : a
    }
    static func cross(_ a: [Double], _ b: [Double]) -> [Double] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }

    static func invert3(_ m: [[Double]]) -> [[Double]]? {
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        guard abs(det) > 1e-12 else { return nil }
        let c: [[Double]] = [
            [m[1][1] * m[2][2] - m[1][2] * m[2][1], m[0][2] * m[2][1] - m[0][1] * m[2][2], m[0][1] * m[1][2] - m[0][2] * m[1][1]],
            [m[1][2] * m[2][0] - m[1][0] * m[2][2], m[0][0] * m[2][2] - m[0][2] * m[2][0], m[0][2] * m[1][0] - m[0][0] * m[1][2]],
            [m[1][0] * m[2][1] - m[1][1] * m[2][0], m[0][1] * m[2][0] - m[0][0] * m[2][1], m[0][0] * m[1][1] - m[0][1] * m[1][0]],
        ]
        return c.map { $0.map { $0 / det } }
    }
}
