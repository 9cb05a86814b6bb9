import Foundation
import Hummingbird
import VisageAccess
import VisageCore
import VisageStore
import VisageVision

/// `DetectModerationLabels`: the image from `Image.Bytes` or from an object of this server's
/// store read as the caller, moderated by the shared moderation core, answered with the labels
/// at or above `MinConfidence`.
struct DetectModerationLabels: Sendable {
    let moderator: SharedContentModerator
    /// Checks that the caller may read an object and opens it, as a GET of it would be checked.
    let readObject: @Sendable (_ bucket: String, _ key: String, _ call: RekognitionCall, _ limit: Int) async throws -> [UInt8]
    let humanLoops: HumanLoopActivation

    static let maxBytes = 5 * 1024 * 1024
    static let maxObjectBytes = 15 * 1024 * 1024
    static let maxSide = 10_000
    static let formats: Set = ["jpeg", "png"]

    struct Input: Decodable {
        struct Image: Decodable {
            let Bytes: String?
            let S3Object: S3Object?
        }

        struct S3Object: Decodable {
            let Bucket: String?
            let Name: String?
            let Version: String?
        }

        let Image: Image?
        let MinConfidence: Double?
        let HumanLoopConfig: HumanLoopConfig?
        let ProjectVersion: String?
    }

    struct HumanLoopConfig: Decodable {
        struct DataAttributes: Decodable {
            let ContentClassifiers: [String]?
        }

        let HumanLoopName: String?
        let FlowDefinitionArn: String?
        let DataAttributes: DataAttributes?
    }

    struct Output: Encodable {
        let ModerationLabels: [ModerationLabelNames.Label]
        let ModerationModelVersion: String
        let HumanLoopActivationOutput: HumanLoopActivation.Output?
    }

    func perform(_ call: RekognitionCall) async throws -> Output {
        let input: Input
        do {
            input = try JSONDecoder().decode(Input.self, from: Data(call.body))
        } catch {
            throw RekognitionError.invalidParameter("The request body must be a JSON object of the DetectModerationLabels input shape.")
        }
        if input.ProjectVersion != nil {
            throw RekognitionError.invalidParameter("ProjectVersion names a custom adapter; this server has none and moderates with its own models only.")
        }
        let minConfidence = input.MinConfidence ?? 50
        guard (0...100).contains(minConfidence) else { throw RekognitionError.invalidParameter("MinConfidence must be from 0 to 100.") }
        let loop = try input.HumanLoopConfig.map(HumanLoopActivation.Request.init)
        let bytes = try await image(input.Image, call: call)
        let assessment = try await moderator.get().assess(bytes, formats: Self.formats, maxSide: Self.maxSide)
        var activation: HumanLoopActivation.Output?
        if let loop { activation = try await humanLoops.start(loop, image: bytes, assessment: assessment, call: call) }
        return Output(ModerationLabels: assessment.labels.filter { $0.confidence >= minConfidence }.map(ModerationLabelNames.label),
                      ModerationModelVersion: ModerationLabelNames.modelVersion, HumanLoopActivationOutput: activation)
    }

    /// The image's bytes, from the request or from the store.
    func image(_ image: Input.Image?, call: RekognitionCall) async throws -> [UInt8] {
        guard let image, (image.Bytes == nil) != (image.S3Object == nil) else {
            throw RekognitionError.invalidParameter("Image must have exactly one of Bytes and S3Object.")
        }
        if let text = image.Bytes {
            // botocore does not enforce the size limit; the base64 text is about 4/3 of the bytes.
            guard text.utf8.count <= (Self.maxBytes + 2) / 3 * 4 + 4 else {
                throw RekognitionError.imageTooLarge("Image.Bytes may hold at most \(Self.maxBytes) bytes.")
            }
            guard let data = Data(base64Encoded: text) else { throw RekognitionError.invalidParameter("Image.Bytes is not valid base64.") }
            guard !data.isEmpty else { throw RekognitionError.invalidParameter("Image.Bytes is empty.") }
            guard data.count <= Self.maxBytes else {
                throw RekognitionError.imageTooLarge("Image.Bytes holds \(data.count) bytes; the limit is \(Self.maxBytes).")
            }
            return [UInt8](data)
        }
        let object = image.S3Object!
        guard let bucket = object.Bucket, let name = object.Name, !bucket.isEmpty, !name.isEmpty else {
            throw RekognitionError.invalidParameter("Image.S3Object needs Bucket and Name.")
        }
        if let version = object.Version, version != "null" {
            throw RekognitionError.invalidS3Object("This server keeps one version of each object: Image.S3Object.Version must be omitted.")
        }
        do {
            return try await readObject(bucket, name, call, Self.maxObjectBytes)
        } catch let error as VisageError {
            if case .tooLarge = error {
                throw RekognitionError.imageTooLarge("The object is larger than \(Self.maxObjectBytes) bytes.")
            }
            throw RekognitionError.invalidS3Object("Unable to get object metadata from S3. Check object key, region and/or access permissions. (\(error))")
        } catch let error as WireError {
            throw RekognitionError.invalidS3Object("Unable to get object metadata from S3. Check object key, region and/or access permissions. (\(error.message))")
        }
    }
}
