import Foundation
import VisageCore
import VisageMedia
import VisageStore
import VisageVision

/// The output document of a completed review, in the shape Amazon A2I writes for a
/// DetectModerationLabels review: the labels the reviewer confirmed under `humanAnswers`, the
/// machine's labels under `inputContent`. It is written as an object of the reviewing account's
/// output bucket, so code that reads `HumanLoopOutput.OutputS3Uri` with an S3 client gets it.
struct HumanLoopOutputs: Sendable {
    let objects: any ObjectStore
    /// The bucket written to; it must exist and belong to the review's account.
    let bucket: String
    static let answerKey = "AWS/Rekognition/DetectModerationLabels/Image/V3"

    struct Label: Encodable {
        let name: String
        let parentName: String
    }

    struct Document: Encodable {
        struct Answer: Encodable {
            let answerContent: [String: [String: [Label]]]
            let submissionTime: String
            let workerId: String
        }

        struct Input: Encodable {
            let moderationLabels: [ModerationLabelNames.Label]
        }

        let flowDefinitionArn: String
        let humanAnswers: [Answer]
        let humanLoopName: String
        let inputContent: Input
        /// Every decision in order, the newest per label being the answer (not an A2I field).
        let decisionHistory: [History]
    }

    struct History: Encodable {
        let name: String
        let verdict: String
        let reviewer: String
        let decidedAt: String
    }

    func key(_ review: ModerationReview) -> String { "human-loops/\(review.name)/output.json" }

    func uri(_ review: ModerationReview) -> String { "s3://\(bucket)/\(key(review))" }

    /// Writes the document of a completed review; nil when the account has no output bucket.
    @discardableResult
    func write(_ review: ModerationReview) async throws -> String? {
        guard review.status == .completed, let name = try? BucketName(bucket),
              let info = try? await objects.bucket(name), info.ownerAccount == review.accountID
        else { return nil }
        let verdicts = review.verdicts
        let approved = review.labels.filter { verdicts[$0.category] == .approve }.map {
            Label(name: ModerationLabelNames.name($0.category), parentName: $0.category.parent.map(ModerationLabelNames.name) ?? "")
        }
        let time = ISO8601DateFormatter()
        let reviewer = review.decisions.last?.reviewer ?? ""
        let document = Document(
            flowDefinitionArn: review.flow,
            humanAnswers: [Document.Answer(answerContent: [Self.answerKey: ["moderationLabels": approved]],
                                           submissionTime: time.string(from: review.completed ?? review.created), workerId: reviewer)],
            humanLoopName: review.name, inputContent: Document.Input(moderationLabels: review.labels.map(ModerationLabelNames.label)),
            decisionHistory: review.decisions.map {
                History(name: ModerationLabelNames.name($0.category), verdict: $0.verdict.rawValue, reviewer: $0.reviewer,
                        decidedAt: time.string(from: $0.decided))
            })
        let bytes = [UInt8](try JSONEncoder.awsJSON.encode(document))
        _ = try await objects.putObject(bucket: name, key: try ObjectKey(key(review)),
                                        attributes: ObjectAttributes(contentType: "application/json"), bytes: bytes)
        return uri(review)
    }

    /// Where the document of a review is, when it has been written.
    func existing(_ review: ModerationReview) async -> String? {
        guard review.status == .completed, let name = try? BucketName(bucket), let key = try? ObjectKey(key(review)),
              (try? await objects.headObject(bucket: name, key: key)) != nil
        else { return nil }
        return uri(review)
    }
}
