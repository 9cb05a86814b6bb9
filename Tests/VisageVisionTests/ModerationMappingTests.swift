import Foundation
import Testing
import VisageVision

/// The label mapping, fed the body-part detector's real output structure (`[1, 22, anchors]`:
/// box centre and size in 320-pixel input units, then 18 class scores) with explicit findings
/// written into it, so the behaviour on explicit content is tested without explicit images.
@Suite("Moderation labels from the models' outputs")
struct ModerationMappingTests {
    /// A detector output with one anchor per finding: (class, score, centre x, centre y, side).
    static func output(_ findings: [(BodyPart, Float, Float, Float, Float)], anchors: Int = 2100) -> Tensor {
        let channels = 4 + BodyPart.allCases.count
        var values = [Float](repeating: 0, count: channels * anchors)
        for (anchor, finding) in findings.enumerated() {
            let (part, score, x, y, side) = finding
            for (channel, value) in [x, y, side, side].enumerated() { values[channel * anchors + anchor] = value }
            values[(4 + BodyPart.allCases.firstIndex(of: part)!) * anchors + anchor] = score
        }
        return Tensor(shape: [1, channels, anchors], values: values)
    }

    static func detector() throws -> BodyPartDetector {
        BodyPartDetector(model: try InferenceModel(path: try ModelCatalog.discover().url(of: .nudeNet).path, concurrency: 1))
    }

    @Test("explicit findings become a detail with its category and top level")
    func explicitDetail() throws {
        let parts = try Self.detector().decode(
            Self.output([(.femaleBreastExposed, 0.91, 100, 120, 40), (.faceFemale, 0.88, 160, 40, 50)]), width: 640, height: 480)
        #expect(parts.map(\.part) == [.femaleBreastExposed, .faceFemale])
        // Input pixels are scaled back by the padded square's side (640 / 320).
        #expect(abs(parts[0].box.left - 160) < 0.01 && abs(parts[0].box.width - 80) < 0.01)
        let labels = ModerationMapping.labels(parts: parts, explicitScore: 0.97)
        let byCategory = Dictionary(uniqueKeysWithValues: labels.map { ($0.category, $0.confidence) })
        #expect(byCategory[.exposedFemaleNipple] == 91)
        #expect(byCategory[.explicitNudity] == 91)
        #expect(byCategory[.explicit] == 91)
        #expect(byCategory.count == 3)
    }

    @Test("overlapping boxes keep the strongest class; weak anchors are dropped")
    func suppression() throws {
        let parts = try Self.detector().decode(
            Self.output([(.maleGenitaliaExposed, 0.6, 100, 100, 50), (.buttocksExposed, 0.8, 102, 101, 50), (.bellyExposed, 0.1, 10, 10, 5)]),
            width: 320, height: 320)
        #expect(parts.map(\.part) == [.buttocksExposed])
        let labels = ModerationMapping.labels(parts: parts, explicitScore: 0.2)
        #expect(labels.first == ModerationLabel(category: .exposedButtocksOrAnus, confidence: 80))
    }

    @Test("a covered breast alone is not swimwear; with covered genitals it is")
    func swimwear() {
        let breast = BodyPartDetection(part: .femaleBreastCovered, score: 0.86, box: FaceBox(left: 0, top: 0, width: 10, height: 10))
        let genitals = BodyPartDetection(part: .femaleGenitaliaCovered, score: 0.7, box: FaceBox(left: 0, top: 20, width: 10, height: 10))
        #expect(ModerationMapping.labels(parts: [breast], explicitScore: 0.08).isEmpty)
        let labels = ModerationMapping.labels(parts: [breast, genitals], explicitScore: 0.1)
        #expect(labels.map(\.category) == [.femaleSwimwearOrUnderwear, .swimwearOrUnderwear])
        #expect(labels.allSatisfy { $0.confidence == 70 })
    }

    @Test("the classifier alone raises nothing; with an intimate part it raises the top level only")
    func agreement() {
        #expect(ModerationMapping.labels(parts: [], explicitScore: 0.99).isEmpty)
        let covered = BodyPartDetection(part: .buttocksCovered, score: 0.8, box: FaceBox(left: 0, top: 0, width: 10, height: 10))
        let labels = ModerationMapping.labels(parts: [covered], explicitScore: 0.9)
        #expect(labels == [ModerationLabel(category: .explicit, confidence: 72)])
    }

    @Test("male chest is non-explicit nudity; confidences under the floor are dropped")
    func nonExplicit() {
        let chest = BodyPartDetection(part: .maleBreastExposed, score: 0.64, box: FaceBox(left: 0, top: 0, width: 10, height: 10))
        let weak = BodyPartDetection(part: .femaleGenitaliaExposed, score: 0.19, box: FaceBox(left: 50, top: 50, width: 10, height: 10))
        let labels = ModerationMapping.labels(parts: [chest, weak], explicitScore: 0)
        #expect(labels.map(\.category) == [.exposedMaleNipple, .nonExplicitNudity, .nonExplicitNudityOfIntimateParts])
        #expect(ModerationCategory.exposedMaleNipple.level == 3 && ModerationCategory.nonExplicitNudity.level == 2)
    }
}
