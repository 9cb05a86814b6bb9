import VisageVision

/// The moderation taxonomy's names (model 7.0) for Visage's categories. A category added to the
/// core does not compile until it is named here.
public enum ModerationLabelNames {
    public static func name(_ category: ModerationCategory) -> String {
        switch category {
        case .explicit: "Explicit"
        case .explicitNudity: "Explicit Nudity"
        case .exposedMaleGenitalia: "Exposed Male Genitalia"
        case .exposedFemaleGenitalia: "Exposed Female Genitalia"
        case .exposedButtocksOrAnus: "Exposed Buttocks or Anus"
        case .exposedFemaleNipple: "Exposed Female Nipple"
        case .nonExplicitNudityOfIntimateParts: "Non-Explicit Nudity of Intimate parts and Kissing"
        case .nonExplicitNudity: "Non-Explicit Nudity"
        case .exposedMaleNipple: "Exposed Male Nipple"
        case .swimwearOrUnderwear: "Swimwear or Underwear"
        case .femaleSwimwearOrUnderwear: "Female Swimwear or Underwear"
        }
    }

    /// One label as the response lists it.
    struct Label: Codable, Sendable, Equatable {
        let Confidence: Double
        let Name: String
        let ParentName: String
        let TaxonomyLevel: Int
    }

    static func label(_ label: ModerationLabel) -> Label {
        Label(Confidence: label.confidence, Name: name(label.category), ParentName: label.category.parent.map(name) ?? "",
              TaxonomyLevel: label.category.level)
    }
}

extension ModerationLabelNames {
    /// The version string answers carry: Visage's label mapping over the two models it runs.
    public static let modelVersion = "visage-moderation-1 (nudenet-320n, open-nsfw)"

    /// A moderation result as DetectModerationLabels answers it, labels at or above `minConfidence`.
    public static func response(_ assessment: ModerationAssessment, minConfidence: Double) -> [String: Any] {
        ["ModerationModelVersion": modelVersion,
         "ModerationLabels": assessment.labels.filter { $0.confidence >= minConfidence }.map { label -> [String: Any] in
             let named = self.label(label)
             return ["Confidence": named.Confidence, "Name": named.Name, "ParentName": named.ParentName, "TaxonomyLevel": named.TaxonomyLevel]
         }]
    }
}
