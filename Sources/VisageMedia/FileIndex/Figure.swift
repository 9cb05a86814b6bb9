import Foundation
import VisageCore
import VisageVision

/// A face as the media index keeps it (`Figures[]` of a file, `Faces[]` of DetectImageFaces),
/// with IMM's field names, which are also the paths SimpleQuery filters on. Only attributes
/// with a measurement behind them are present.
public enum Figure {
    /// The figure document of one analysed face.
    public static func document(id: String, attributes: FaceAttributes, clusterID: String? = nil) -> JSONValue {
        let box = attributes.boundary
        var fields: [String: JSONValue] = [
            "FigureId": .string(id),
            "FigureType": .string("face"),
            "FigureConfidence": .number(rounded(attributes.figureConfidence)),
            "Boundary": .object([
                "Left": .number(box.left.rounded()), "Top": .number(box.top.rounded()),
                "Width": .number(box.width.rounded()), "Height": .number(box.height.rounded()),
            ]),
            "HeadPose": .object([
                "Pitch": .number(rounded(attributes.headPose.pitch, places: 1)),
                "Roll": .number(rounded(attributes.headPose.roll, places: 1)),
                "Yaw": .number(rounded(attributes.headPose.yaw, places: 1)),
            ]),
            "Sharpness": .number(rounded(attributes.sharpness)),
            "FaceQuality": .number(rounded(attributes.faceQuality)),
        ]
        // Measured from the inner lips: absent when faces are aligned on 5 landmarks.
        if let mouth = attributes.mouth, let confidence = attributes.mouthConfidence {
            fields["Mouth"] = .string(mouth.rawValue)
            fields["MouthConfidence"] = .number(rounded(confidence))
        }
        if let clusterID { fields["FigureClusterId"] = .string(clusterID) }
        return .object(fields)
    }

    /// The seed's bar for a face that may found a person: box larger than 75×75, each head-pose
    /// angle under 30°, FaceQuality above 0.8.
    public static func isHighQuality(_ attributes: FaceAttributes) -> Bool {
        let pose = attributes.headPose
        return attributes.boundary.width > 75 && attributes.boundary.height > 75
            && abs(pose.pitch) < 30 && abs(pose.yaw) < 30 && abs(pose.roll) < 30 && attributes.faceQuality > 0.8
    }

    static func rounded(_ value: Double, places: Int = 3) -> Double {
        let factor = pow(10, Double(places))
        return (value * factor).rounded() / factor
    }
}
