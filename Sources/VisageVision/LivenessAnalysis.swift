import Foundation
import VisageCore

/// A head movement the person in front of the camera is asked to make, chosen by the server at
/// random for each attempt. Directions are the person's own: turning to their left moves the nose
/// towards the right of the (unmirrored) camera image.
public enum LivenessChallenge: String, Codable, Sendable, CaseIterable {
    case turnLeft, turnRight, lookUp, lookDown

    /// The head-pose movement the challenge asks for, as a unit direction in (yaw, pitch).
    var direction: (yaw: Double, pitch: Double) {
        switch self {
        case .turnLeft: (1, 0)
        case .turnRight: (-1, 0)
        case .lookUp: (0, 1)
        case .lookDown: (0, -1)
        }
    }
}

/// What one camera frame showed of the face.
public struct LivenessObservation: Sendable {
    /// Faces found in the frame.
    public let faceCount: Int
    /// The largest face's box, 68 landmarks, head pose and quality; nil when no face was seen.
    public let box: FaceBox?
    public let landmarks: [Point]
    public let pose: HeadPose?
    public let quality: Double
    /// Embedding of the face, for the frames compared for identity (nil for the others).
    public let embedding: [Float]?

    public init(faceCount: Int, box: FaceBox?, landmarks: [Point], pose: HeadPose?, quality: Double, embedding: [Float]?) {
        self.faceCount = faceCount
        self.box = box
        self.landmarks = landmarks
        self.pose = pose
        self.quality = quality
        self.embedding = embedding
    }
}

/// The thresholds of the liveness decision (measured on rendered heads and moved prints, see
/// docs/liveness.md).
public struct LivenessRules: Sendable {
    /// Fewest frames a burst must hold.
    public var minFrames = 5
    /// The asked movement must reach this many degrees from the first frame (yaw for turns).
    public var turnDegrees = 15.0
    /// The same for pitch (nods).
    public var nodDegrees = 15.0
    /// The head may roll this much during the burst: the landmark model places points less
    /// reliably on a face turned in the image plane (a rotated print), which would read as depth.
    public var maxRoll = 15.0
    /// Below this homography residual (inter-ocular distances) the face moved like a flat picture.
    public var planarResidual = 0.045
    /// From this residual on, the face moved with depth.
    public var depthResidual = 0.07
    /// A similarity residual from which a planar face has visibly changed shape (a tilted picture).
    public var shapeChange = 0.03
    /// Largest embedding distance between frames of one person (dlib's usual same-person limit).
    public var sameFaceDistance = 0.6

    public init() {}
}

/// The outcome of a liveness check.
public enum LivenessDecision: String, Codable, Sendable {
    /// A live, three-dimensional face that made the asked movement.
    case live
    /// Evidence of a presentation attack: a flat picture, or another face during the burst.
    case spoof
    /// Not enough evidence either way (no face, did not move as asked, depth unclear).
    case uncertain
}

/// The decision with the measurements behind it, kept in the audit trail.
public struct LivenessVerdict: Codable, Sendable, Equatable {
    public let decision: LivenessDecision
    /// Why, in a few words each.
    public let reasons: [String]
    public let challenge: LivenessChallenge
    /// Degrees moved in the asked direction (largest over the frames, from the first).
    public let movement: Double
    /// The homography residual that decided depth (second largest over the frames).
    public let depthResidual: Double
    /// The largest similarity residual (how much the face changed shape).
    public let shapeChange: Double
    /// Index of the frame whose face is used for verification (the most frontal embedded frame).
    public let bestFrame: Int?
}

/// Judges a burst of frames answering a challenge: the same face throughout, the asked movement,
/// and depth in the movement. Pure: the frames are already analysed.
public enum LivenessAnalysis {
    public static func judge(_ frames: [LivenessObservation], challenge: LivenessChallenge,
                             rules: LivenessRules = LivenessRules()) -> LivenessVerdict {
        func verdict(_ decision: LivenessDecision, _ reasons: [String], movement: Double = 0, depth: Double = 0, shape: Double = 0,
                     best: Int? = nil) -> LivenessVerdict {
            LivenessVerdict(decision: decision, reasons: reasons, challenge: challenge, movement: movement, depthResidual: depth,
                            shapeChange: shape, bestFrame: best)
        }
        guard frames.count >= rules.minFrames else {
            return verdict(.uncertain, ["\(frames.count) frames, at least \(rules.minFrames) are needed"])
        }
        if frames.contains(where: { $0.faceCount > 1 }) {
            return verdict(.uncertain, ["more than one face in a frame"])
        }
        if frames.contains(where: { $0.pose != nil && $0.landmarks.count != 68 }) {
            return verdict(.uncertain, ["liveness needs the 68-point landmarks (VISAGE_LANDMARKS=5 is set)"])
        }
        guard frames.allSatisfy({ $0.pose != nil }) else {
            return verdict(.uncertain, ["no face in \(frames.filter { $0.pose == nil }.count) of \(frames.count) frames"])
        }
        let poses = frames.map { $0.pose! }
        let best = bestFrame(frames)
        // The same person throughout: every embedded frame against the first embedded one.
        let embedded = frames.compactMap(\.embedding)
        if let first = embedded.first,
           let far = embedded.dropFirst().map({ FaceComparison.distance(first, $0) }).max(), far > rules.sameFaceDistance {
            return verdict(.spoof, [String(format: "the face changed during the burst (embedding distance %.2f)", far)], best: best)
        }
        let roll = poses.map { abs($0.roll - poses[0].roll) }.max() ?? 0
        if roll > rules.maxRoll {
            return verdict(.uncertain, [String(format: "the head rolled %.0f° (at most %.0f° is read reliably)", roll, rules.maxRoll)],
                           best: best)
        }
        // The asked movement, and how much the head moved any other way.
        let direction = challenge.direction
        let start = poses[0]
        let asked = poses.map { ($0.yaw - start.yaw) * direction.yaw + ($0.pitch - start.pitch) * direction.pitch }.max() ?? 0
        let needed = direction.yaw != 0 ? rules.turnDegrees : rules.nodDegrees
        let other = poses.map { direction.yaw != 0 ? abs($0.pitch - start.pitch) : abs($0.yaw - start.yaw) }.max() ?? 0
        let wrongWay = poses.map { -(($0.yaw - start.yaw) * direction.yaw + ($0.pitch - start.pitch) * direction.pitch) }.max() ?? 0
        let performed = asked >= needed && other < asked && wrongWay < needed
        // Depth: residuals against the first frame; the second largest, so one badly placed set
        // of landmarks cannot decide alone.
        let residuals = frames.dropFirst().map { PlanarMotion.homographyResidual(from: frames[0].landmarks, to: $0.landmarks) }
        let depth = residuals.sorted(by: >).dropFirst().first ?? residuals.first ?? 0
        let shape = frames.dropFirst().map { PlanarMotion.similarityResidual(from: frames[0].landmarks, to: $0.landmarks) }.max() ?? 0
        let measures = (movement: asked, depth: depth, shape: shape)
        func decide(_ decision: LivenessDecision, _ reasons: [String]) -> LivenessVerdict {
            verdict(decision, reasons, movement: measures.movement, depth: measures.depth, shape: measures.shape, best: best)
        }
        let moveText = String(format: "moved %.0f° as asked (%.0f° needed)", asked, needed)
        let depthText = String(format: "homography residual %.3f", depth)
        if depth <= rules.planarResidual {
            if performed || shape >= rules.shapeChange {
                return decide(.spoof, ["the face moved as one flat picture (\(depthText))", moveText])
            }
            return decide(.uncertain, ["the head did not turn as asked: \(moveText)", depthText])
        }
        guard performed else {
            return decide(.uncertain, ["the head did not make the asked movement: \(moveText)"
                                       + (wrongWay >= needed ? String(format: ", %.0f° the other way", wrongWay) : ""), depthText])
        }
        guard depth >= rules.depthResidual else {
            return decide(.uncertain, ["depth unclear (\(depthText))", moveText])
        }
        return decide(.live, ["the head moved with depth (\(depthText))", moveText])
    }

    /// The most frontal of the embedded frames (the face compared with a reference: embeddings
    /// of a turned head drift from the same person's frontal photo), else the most frontal frame.
    public static func bestFrame(_ frames: [LivenessObservation]) -> Int? {
        let posed = frames.enumerated().filter { $0.element.pose != nil }
        let embedded = posed.filter { $0.element.embedding != nil }
        func turn(_ pose: HeadPose) -> Double { max(abs(pose.yaw), abs(pose.pitch)) }
        return (embedded.isEmpty ? posed : embedded).min { turn($0.element.pose!) < turn($1.element.pose!) }?.offset
    }
}

extension FaceEngine {
    /// One camera frame of a liveness burst: the largest face's box, landmarks, pose and quality,
    /// and its embedding when `embed` (identity is compared on a few frames only: it is the
    /// costliest step).
    public func observe(_ data: [UInt8], embed: Bool) async throws -> LivenessObservation {
        let declared = try await Vips.gate.run { try await Blocking.run { [decoder] in try decoder.header(of: data) } }
        return try await pixels.run(declared.storedWidth * declared.storedHeight) {
            let (_, image) = try await Vips.gate.run { try await Blocking.run { [decoder] in try decoder.decode(data) } }
            let detections = try await detector.detect(image)
            guard let largest = detections.max(by: { $0.box.width * $0.box.height < $1.box.width * $1.box.height }) else {
                return LivenessObservation(faceCount: 0, box: nil, landmarks: [], pose: nil, quality: 0, embedding: nil)
            }
            return try await Blocking.run { [landmarker, embedder] in
                let landmarks = try landmarker.landmarks(in: image, box: largest.box)
                let attributes = FaceMeasures.attributes(detection: largest, landmarks: landmarks, image: image)
                return LivenessObservation(
                    faceCount: detections.count, box: largest.box, landmarks: landmarks, pose: attributes.headPose,
                    quality: attributes.faceQuality, embedding: embed ? try embedder.embedding(of: image, landmarks: landmarks) : nil)
            }
        }
    }
}
