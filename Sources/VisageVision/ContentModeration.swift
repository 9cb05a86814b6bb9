import Foundation
import VisageCore

/// A kind of unsafe content Visage can report, in a three-level hierarchy (top level, category,
/// detail). Only kinds a shipped model can see are listed: no model here sees violence, drugs,
/// alcohol, gambling, hate symbols or gestures, so none of those is ever reported.
public enum ModerationCategory: String, CaseIterable, Sendable, Codable {
    case explicit
    case explicitNudity
    case exposedMaleGenitalia, exposedFemaleGenitalia, exposedButtocksOrAnus, exposedFemaleNipple
    case nonExplicitNudityOfIntimateParts
    case nonExplicitNudity
    case exposedMaleNipple
    case swimwearOrUnderwear
    case femaleSwimwearOrUnderwear

    /// The category this one refines; nil at the top level.
    public var parent: ModerationCategory? {
        switch self {
        case .explicit, .nonExplicitNudityOfIntimateParts, .swimwearOrUnderwear: return nil
        case .explicitNudity: return .explicit
        case .exposedMaleGenitalia, .exposedFemaleGenitalia, .exposedButtocksOrAnus, .exposedFemaleNipple: return .explicitNudity
        case .nonExplicitNudity: return .nonExplicitNudityOfIntimateParts
        case .exposedMaleNipple: return .nonExplicitNudity
        case .femaleSwimwearOrUnderwear: return .swimwearOrUnderwear
        }
    }

    /// 1 at the top level, 2 for a category, 3 for a detail.
    public var level: Int { parent.map { $0.level + 1 } ?? 1 }
}

/// One reported category and how confident the models are, 0–100.
public struct ModerationLabel: Sendable, Equatable, Codable {
    public let category: ModerationCategory
    public let confidence: Double

    public init(category: ModerationCategory, confidence: Double) {
        self.category = category
        self.confidence = confidence
    }
}

/// What the moderation models saw in one image, and the labels that follow from it.
public struct ModerationAssessment: Sendable, Codable {
    /// The decoded format (`jpeg`, `png`, …) and upright size.
    public let format: String
    public let width: Int
    public let height: Int
    /// The body-part detector's findings.
    public let parts: [BodyPartDetection]
    /// The whole-image classifier's probability, 0–1, that the image is explicit.
    public let explicitScore: Double
    /// Every label the findings support, strongest first, a detail before its parents.
    public let labels: [ModerationLabel]
}

/// How model outputs become labels. Each detail label takes the strongest detection of the body
/// parts that show it; a category and a top level take their strongest child. Two rules combine
/// evidence, because one detector class alone misleads:
/// - Swimwear or underwear needs both a covered female breast and covered female genitals
///   (the smaller score): a covered breast alone is what any dress shows.
/// - The top-level explicit label also takes the agreement of both models, the whole-image
///   explicit probability times the strongest intimate body part found (exposed or covered), so
///   explicit images whose exposed parts the detector misses are still reported, while neither
///   model alone (a portrait the classifier misjudges, a low-cut dress) reaches it.
/// Confidences below the detector's own reporting floor (20) are dropped.
public enum ModerationMapping {
    public static let floor = 20.0

    /// The details each body part shows.
    static func category(of part: BodyPart) -> ModerationCategory? {
        switch part {
        case .maleGenitaliaExposed: return .exposedMaleGenitalia
        case .femaleGenitaliaExposed: return .exposedFemaleGenitalia
        case .buttocksExposed, .anusExposed: return .exposedButtocksOrAnus
        case .femaleBreastExposed: return .exposedFemaleNipple
        case .maleBreastExposed: return .exposedMaleNipple
        case .femaleGenitaliaCovered, .faceFemale, .feetExposed, .bellyCovered, .feetCovered, .armpitsCovered, .armpitsExposed,
             .faceMale, .bellyExposed, .anusCovered, .femaleBreastCovered, .buttocksCovered:
            return nil
        }
    }

    /// Body parts whose presence, with the classifier's verdict, points at explicit content.
    static let intimate: Set<BodyPart> = [
        .maleGenitaliaExposed, .femaleGenitaliaExposed, .buttocksExposed, .anusExposed, .femaleBreastExposed,
        .femaleGenitaliaCovered, .femaleBreastCovered, .buttocksCovered, .anusCovered,
    ]

    public static func labels(parts: [BodyPartDetection], explicitScore: Double) -> [ModerationLabel] {
        var confidence: [ModerationCategory: Double] = [:]
        func raise(_ category: ModerationCategory, _ value: Double) {
            var current: ModerationCategory? = category
            while let node = current {
                confidence[node] = max(confidence[node] ?? 0, value)
                current = node.parent
            }
        }
        func best(_ part: BodyPart) -> Double { parts.filter { $0.part == part }.map(\.score).max() ?? 0 }
        for detection in parts {
            if let category = category(of: detection.part) { raise(category, detection.score * 100) }
        }
        let swimwear = min(best(.femaleBreastCovered), best(.femaleGenitaliaCovered))
        if swimwear > 0 { raise(.femaleSwimwearOrUnderwear, swimwear * 100) }
        let intimateScore = parts.filter { intimate.contains($0.part) }.map(\.score).max() ?? 0
        raise(.explicit, explicitScore * intimateScore * 100)
        return confidence.filter { $0.value >= floor }
            .map { ModerationLabel(category: $0.key, confidence: ($0.value * 1000).rounded() / 1000) }
            // Strongest first; at equal confidence a detail before its category and top level.
            .sorted { ($0.confidence, $0.category.level, $1.category.rawValue) > ($1.confidence, $1.category.level, $0.category.rawValue) }
    }
}

/// Why an image cannot be moderated.
public enum ModerationRefusal: Error, Sendable, Equatable {
    /// Not one of the accepted formats (the caller's list), or not an image at all.
    case unsupportedFormat
    case tooLarge(bytes: Int, limit: Int)
    case tooManyPixels(width: Int, height: Int, limit: Int)
    case tooSmall(width: Int, height: Int, minimum: Int)
    case corrupt(String)
}

/// The moderation models together: decode an image once, run the body-part detector and the
/// whole-image classifier on it, and map their outputs to labels.
public struct ContentModerator: Sendable {
    public let decoder: ImageDecoder
    public let detector: BodyPartDetector
    public let classifier: ExplicitImageClassifier

    public init(decoder: ImageDecoder = ImageDecoder(), detector: BodyPartDetector, classifier: ExplicitImageClassifier) {
        self.decoder = decoder
        self.detector = detector
        self.classifier = classifier
    }

    public static func load(catalog: ModelCatalog = .discover(), threads: Int = 0, concurrency: Int = 2) throws -> ContentModerator {
        ContentModerator(detector: try BodyPartDetector.load(from: catalog, threads: threads, concurrency: concurrency),
                         classifier: try ExplicitImageClassifier.load(from: catalog, threads: threads, concurrency: concurrency))
    }

    /// Moderates one encoded image. `formats` lists the accepted formats (nil: all the decoder
    /// reads); `maxSide` and `minSide` bound the width and height.
    public func assess(_ bytes: [UInt8], formats: Set<String>? = nil, maxSide: Int? = nil, minSide: Int? = nil) async throws
        -> ModerationAssessment
    {
        let header: ImageHeader
        do {
            header = try await Vips.gate.run { try await Blocking.run { [decoder] in try decoder.header(of: bytes) } }
        } catch let error as ImageError {
            throw Self.refusal(error)
        }
        if let formats, !formats.contains(header.format) { throw ModerationRefusal.unsupportedFormat }
        if let maxSide, max(header.width, header.height) > maxSide {
            throw ModerationRefusal.tooManyPixels(width: header.width, height: header.height, limit: maxSide)
        }
        if let minSide, min(header.width, header.height) < minSide {
            throw ModerationRefusal.tooSmall(width: header.width, height: header.height, minimum: minSide)
        }
        let image: RGBImage
        do {
            image = try await Vips.gate.run { try await Blocking.run { [decoder] in try decoder.decode(bytes).image } }
        } catch let error as ImageError {
            throw Self.refusal(error)
        }
        async let parts = detector.detect(image)
        let explicitScore = try await classifier.score(image, decoder: decoder)
        let found = try await parts
        return ModerationAssessment(format: header.format, width: image.width, height: image.height, parts: found,
                                    explicitScore: explicitScore,
                                    labels: ModerationMapping.labels(parts: found, explicitScore: explicitScore))
    }

    static func refusal(_ error: ImageError) -> ModerationRefusal {
        switch error {
        case .empty, .unsupportedFormat: return .unsupportedFormat
        case let .tooLarge(bytes, limit): return .tooLarge(bytes: bytes, limit: limit)
        case let .tooManyPixels(width, height, limit): return .tooManyPixels(width: width, height: height, limit: limit)
        case let .corrupt(detail): return .corrupt(detail)
        }
    }
}

/// The moderation models of a server process, loaded on first use.
public actor SharedContentModerator {
    private var moderator: ContentModerator?
    private let load: @Sendable () throws -> ContentModerator

    public init(load: @escaping @Sendable () throws -> ContentModerator = { try ContentModerator.load() }) {
        self.load = load
    }

    public func get() throws -> ContentModerator {
        if let moderator { return moderator }
        let loaded = try load()
        moderator = loaded
        return loaded
    }
}
