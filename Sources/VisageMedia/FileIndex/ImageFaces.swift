import Foundation
import VisageCore
import VisageStore
import VisageVision

/// Faces of an image in the object store: the core of DetectImageFaces and of indexing.
public struct ImageFaces: Sendable {
    let objects: any ObjectStore
    let engine: SharedFaceEngine

    public init(objects: any ObjectStore, engine: SharedFaceEngine) {
        self.objects = objects
        self.engine = engine
    }

    /// Reads the object (refusing ones larger than the decoder accepts before reading a byte)
    /// and analyses it.
    public func detect(bucket: BucketName, key: ObjectKey) async throws -> ImageAnalysis {
        let faces = try await engine.get()
        let limit = faces.decoder.maxInputBytes
        let info = try await objects.headObject(bucket: bucket, key: key)
        guard info.size <= Int64(limit) else { throw VisageError.tooLarge(field: "image", limit: limit) }
        let bytes = try await objects.getObject(bucket: bucket, key: key, range: nil).collect()
        do {
            return try await faces.analyze(bytes)
        } catch let error as ImageError {
            throw VisageError.invalidArgument(field: "SourceURI", message: "\(error)")
        }
    }
}
