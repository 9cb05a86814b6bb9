import Foundation
import VisageVision

/// A face in IMM's wire shape (`Faces[]` of DetectImageFaces, `Figures[]` of a FileMeta). Only
/// attributes with a measurement behind them are present.
public struct IMMFigure: Codable, Sendable, Equatable {
    public struct Boundary: Codable, Sendable, Equatable {
        public let Left: Int
        public let Top: Int
        public let Width: Int
        public let Height: Int
    }

    public struct HeadPose: Codable, Sendable, Equatable {
        public let Pitch: Double
        public let Roll: Double
        public let Yaw: Double
    }

    public let FigureId: String
    public let FigureType: String
    public let FigureConfidence: Double
    public let Boundary: Boundary
    public let HeadPose: HeadPose
    public let Sharpness: Double
    public let FaceQuality: Double
    public let Mouth: String
    public let MouthConfidence: Double

    public init(figureID: String, attributes: FaceAttributes) {
        let box = attributes.boundary
        FigureId = figureID
        FigureType = "face"
        FigureConfidence = Self.rounded(attributes.figureConfidence)
        self.Boundary = .init(Left: Int(box.left.rounded()), Top: Int(box.top.rounded()),
                              Width: Int(box.width.rounded()), Height: Int(box.height.rounded()))
        self.HeadPose = .init(Pitch: Self.rounded(attributes.headPose.pitch, places: 1),
                              Roll: Self.rounded(attributes.headPose.roll, places: 1),
                              Yaw: Self.rounded(attributes.headPose.yaw, places: 1))
        Sharpness = Self.rounded(attributes.sharpness)
        FaceQuality = Self.rounded(attributes.faceQuality)
        Mouth = attributes.mouth.rawValue
        MouthConfidence = Self.rounded(attributes.mouthConfidence)
    }

    /// The figure as a JSON object for RPC responses.
    public var wireObject: [String: any Sendable] {
        ["FigureId": FigureId, "FigureType": FigureType, "FigureConfidence": FigureConfidence,
         "Boundary": ["Left": self.Boundary.Left, "Top": self.Boundary.Top, "Width": self.Boundary.Width, "Height": self.Boundary.Height],
         "HeadPose": ["Pitch": self.HeadPose.Pitch, "Roll": self.HeadPose.Roll, "Yaw": self.HeadPose.Yaw],
         "Sharpness": Sharpness, "FaceQuality": FaceQuality, "Mouth": Mouth, "MouthConfidence": MouthConfidence]
    }

    static func rounded(_ value: Double, places: Int = 3) -> Double {
        let factor = pow(10, Double(places))
        return (value * factor).rounded() / factor
    }
}
