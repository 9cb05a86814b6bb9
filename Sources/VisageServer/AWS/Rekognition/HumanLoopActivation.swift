import Foundation
import VisageMedia
import VisageVision

/// `HumanLoopConfig` of DetectModerationLabels: checks it, asks the review core whether the
/// image goes to a person (a label in the configured confidence band), and answers
/// `HumanLoopActivationOutput`. The review is then listed on the Moderation page and read back
/// through the A2I runtime API by its name.
struct HumanLoopActivation: Sendable {
    let reviews: ModerationReviews
    static let origin = "rekognition"
    static let allowedClassifiers: Set = ["FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]

    /// A checked `HumanLoopConfig`.
    struct Request: Sendable {
        let name: String
        let flow: String

        init(_ config: DetectModerationLabels.HumanLoopConfig) throws {
            guard let name = config.HumanLoopName, Self.isValidName(name) else {
                throw RekognitionError.invalidParameter(
                    "HumanLoopConfig.HumanLoopName must be 1 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit.")
            }
            guard let flow = config.FlowDefinitionArn, !flow.isEmpty, flow.count <= 256 else {
                throw RekognitionError.invalidParameter("HumanLoopConfig.FlowDefinitionArn must be 1 to 256 characters.")
            }
            for classifier in config.DataAttributes?.ContentClassifiers ?? [] where !allowedClassifiers.contains(classifier) {
                throw RekognitionError.invalidParameter("ContentClassifiers may hold FreeOfPersonallyIdentifiableInformation and FreeOfAdultContent only.")
            }
            self.name = name
            self.flow = flow
        }

        static func isValidName(_ name: String) -> Bool {
            let bytes = Array(name.utf8)
            func alphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
            return (1...63).contains(bytes.count) && alphanumeric(bytes.first!) && alphanumeric(bytes.last!)
                && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// What the review core decided, as the response carries it.
    struct Output: Encodable, Sendable {
        let HumanLoopArn: String?
        let HumanLoopActivationReasons: [String]?
        let HumanLoopActivationConditionsEvaluationResults: String
    }

    /// The evaluation of the activation condition, one entry per label, as a JSON text.
    struct Evaluation: Encodable {
        struct Condition: Encodable {
            let ConditionType = "ModerationLabelConfidenceCheck"
            let ConditionParameters: Parameters
            let EvaluationResult: Bool
        }

        struct Parameters: Encodable {
            let ModerationLabelName: String
            let ConfidenceGreaterThanEquals: Double
            let ConfidenceLessThan: Double
            let Confidence: Double
        }

        struct Group: Encodable {
            let Or: [Condition]
            let EvaluationResult: Bool
        }

        let Conditions: [Group]
    }

    static func arn(region: String, accountID: String, name: String) -> String {
        "arn:aws:sagemaker:\(region):\(accountID):human-loop/\(name)"
    }

    func start(_ request: Request, image: [UInt8], assessment: ModerationAssessment, call: RekognitionCall) async throws -> Output {
        let settings = reviews.settings
        let triggered = reviews.triggers(assessment.labels)
        let conditions = assessment.labels.map { label in
            Evaluation.Condition(
                ConditionParameters: Evaluation.Parameters(ModerationLabelName: ModerationLabelNames.name(label.category),
                                                           ConfidenceGreaterThanEquals: settings.lower, ConfidenceLessThan: settings.upper,
                                                           Confidence: label.confidence),
                EvaluationResult: triggered.contains(label))
        }
        let evaluation = Evaluation(Conditions: [Evaluation.Group(Or: conditions, EvaluationResult: !triggered.isEmpty)])
        let evaluationText = String(decoding: try JSONEncoder.awsJSON.encode(evaluation), as: UTF8.self)
        guard !triggered.isEmpty else {
            return Output(HumanLoopArn: nil, HumanLoopActivationReasons: nil, HumanLoopActivationConditionsEvaluationResults: evaluationText)
        }
        let arn = Self.arn(region: call.region, accountID: call.caller.accountID, name: request.name)
        do {
            _ = try await reviews.start(name: request.name, flow: request.flow, accountID: call.caller.accountID, origin: Self.origin,
                                        reference: call.region, labels: assessment.labels, image: image, imageFormat: assessment.format,
                                        requestID: call.requestID)
        } catch let failure as ReviewFailure {
            switch failure {
            case let .quotaExceeded(limit):
                throw WireError(status: .badRequest, code: "HumanLoopQuotaExceededException",
                                message: "This account has \(limit) human loops awaiting review, the most it may have open at once.")
            case let .nameInUse(name):
                throw RekognitionError.invalidParameter("A human loop named \(name) already exists in this account; names are unique.")
            case .notFound, .completed, .notALabel:
                throw RekognitionError.invalidParameter("The human loop could not be started.")
            }
        }
        return Output(HumanLoopArn: arn, HumanLoopActivationReasons: ["ConditionsEvaluation"],
                      HumanLoopActivationConditionsEvaluationResults: evaluationText)
    }
}
