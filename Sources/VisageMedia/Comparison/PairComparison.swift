import Foundation
import VisageCore
import VisageJobs
import VisageStore
import VisageVision

/// Where one image of a pair comes from.
public enum ImageSource: Codable, Sendable, Equatable {
    /// A web URL, fetched under `ImageFetchLimits` and the outbound address rules.
    case web(String)
    /// An object of this server's store (a caller's own URL to it was checked when the pair was
    /// submitted, so it is read directly).
    case object(bucket: String, key: String)
}

/// What may be fetched for a comparison: URL length, download time and size.
public struct ImageFetchLimits: Sendable {
    public var maxURLLength = 2048
    public var timeout: Duration = .seconds(3)
    public var maxBytes = 20 * 1024 * 1024

    public init() {}
}

/// Why a pair could not be compared; `image` is 1 or 2.
public enum ComparisonFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    case fetch(image: Int, OutboundFailure)
    /// An object named by the pair is gone.
    case objectMissing(image: Int)
    case image(image: Int, ImageError)
    case noFace(image: Int)
    /// The comparison did not finish in the time the caller waits (synchronous calls).
    case timedOut
    case internalError(String)

    public var description: String {
        switch self {
        case let .fetch(image, failure): "image \(image): \(failure)"
        case let .objectMissing(image): "image \(image): the object does not exist"
        case let .image(image, problem): "image \(image): \(problem)"
        case let .noFace(image): "image \(image): no face was found"
        case .timedOut: "the comparison did not finish in time"
        case let .internalError(message): message
        }
    }
}

/// The result of comparing the largest face of each image.
public struct PairSimilarity: Codable, Sendable, Equatable {
    /// Calibrated similarity in [0, 1]: 0.5 at the engine's same-person boundary.
    public let similarity: Double
    /// Euclidean distance of the two embeddings.
    public let distance: Double
    /// How many faces each image showed (the largest of each was compared).
    public let faces: [Int]

    public init(similarity: Double, distance: Double, faces: [Int]) {
        self.similarity = similarity
        self.distance = distance
        self.faces = faces
    }

    public var samePerson: Bool { similarity >= 0.5 }
}

/// How a comparison ended.
public enum ComparisonOutcome: Codable, Sendable, Equatable {
    case compared(PairSimilarity)
    case failed(ComparisonFailure)
}

/// Compares the largest face of two images: the one 1:1 comparison every dialect uses
/// (asynchronous tasks, synchronous scans, the terminal command).
public struct PairComparison: Sendable {
    let objects: any ObjectStore
    let engine: SharedFaceEngine
    let outbound: OutboundHTTP
    let limits: ImageFetchLimits

    public init(objects: any ObjectStore, engine: SharedFaceEngine, outbound: OutboundHTTP, limits: ImageFetchLimits = ImageFetchLimits()) {
        self.objects = objects
        self.engine = engine
        self.outbound = outbound
        self.limits = limits
    }

    /// Checks a web URL before anything is queued: scheme and length (addresses are checked when
    /// it is fetched, as DNS answers can change).
    public func validate(_ source: ImageSource) -> OutboundFailure? {
        guard case let .web(url) = source else { return nil }
        guard url.utf8.count <= limits.maxURLLength else { return .badURL("longer than \(limits.maxURLLength) characters") }
        guard NotificationTarget.isWebURL(url) else { return .badURL("only http:// and https:// URLs with a host are fetched") }
        return nil
    }

    /// `people`: a collection of people the pair is judged against when one is at hand (a
    /// project's people, which may hold the two compared: see `FaceComparison.score(_:_:amongPeople:)`).
    public func compare(_ first: ImageSource, _ second: ImageSource, people: Cohort? = nil) async -> ComparisonOutcome {
        async let a = analyze(first, image: 1)
        async let b = analyze(second, image: 2)
        do {
            let (left, right) = try await (a, b)
            guard let one = left.largestFace else { return .failed(.noFace(image: 1)) }
            guard let two = right.largestFace else { return .failed(.noFace(image: 2)) }
            return .compared(Self.similarity(one.embedding, two.embedding, faces: [left.faces.count, right.faces.count], people: people))
        } catch let failure as ComparisonFailure {
            return .failed(failure)
        } catch {
            return .failed(.internalError("\(error)"))
        }
    }

    /// The one calibrated score of two faces' embeddings, shared by every 1:1 comparison
    /// (image pairs here, a liveness check's face against its verify image).
    public static func similarity(_ one: [Float], _ two: [Float], faces: [Int], people: Cohort? = nil) -> PairSimilarity {
        // Faces embedded by another model (a re-index in progress) are not compared.
        let score = people.map { people in
            FaceComparison.score(one, two, amongPeople: Cohort(people.members.filter { $0.embedding.count == one.count }))
        } ?? FaceComparison.score(one, two)
        return PairSimilarity(similarity: FaceComparison.similarity(score: score), distance: FaceComparison.distance(one, two), faces: faces)
    }

    /// The image's bytes, from the web or the store.
    public func bytes(of source: ImageSource, image: Int) async throws -> [UInt8] {
        switch source {
        case let .web(url):
            if let problem = validate(source) { throw ComparisonFailure.fetch(image: image, problem) }
            do {
                return try await outbound.fetch(url, timeout: limits.timeout, maxBytes: limits.maxBytes)
            } catch let failure as OutboundFailure {
                throw ComparisonFailure.fetch(image: image, failure)
            }
        case let .object(bucket, key):
            do {
                let name = try BucketName(bucket), objectKey = try ObjectKey(key)
                let info = try await objects.headObject(bucket: name, key: objectKey)
                guard info.size <= Int64(limits.maxBytes) else {
                    throw ComparisonFailure.image(image: image, .tooLarge(bytes: Int(info.size), limit: limits.maxBytes))
                }
                return try await objects.getObject(bucket: name, key: objectKey, range: nil).collect()
            } catch VisageError.notFound {
                throw ComparisonFailure.objectMissing(image: image)
            }
        }
    }

    private func analyze(_ source: ImageSource, image: Int) async throws -> ImageAnalysis {
        let data = try await bytes(of: source, image: image)
        do {
            return try await engine.get().analyze(data)
        } catch let error as ImageError {
            throw ComparisonFailure.image(image: image, error)
        }
    }
}
