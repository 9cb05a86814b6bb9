import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageMedia
import VisageStore
import VisageVision

/// `/visage/v1/moderation/...`: the web UI's Moderation page. Lists human reviews (pending and
/// completed, with their decision history), serves each review's image, and records a reviewer's
/// verdict on a label; when the last label is decided, the review's output document is written
/// for the A2I runtime API. It shows every account's images without a signature, so it answers
/// callers on this machine only.
struct ModerationRoutes {
    let reviews: ModerationReviews
    let outputs: HumanLoopOutputs

    func add(to router: Router<VisageContext>) {
        let moderation = router.group("visage/v1/moderation").add(middleware: LoopbackOnly())
        moderation.get("reviews") { request, _ -> Response in try await list(request) }
        moderation.get("reviews/:id/image") { _, context -> Response in try await image(context) }
        moderation.post("reviews/:id/decisions") { request, context -> Response in try await decide(request, context) }
    }

    func list(_ request: Request) async throws -> Response {
        let wanted = PeopleRoutes.query(request)["status"] ?? "pending"
        guard let status = ModerationReview.Status(rawValue: wanted) else {
            throw PeopleRoutes.badRequest("status must be pending or completed.")
        }
        let found = try await reviews.recent(status: status, limit: 100)
        return UploadTokenRoutes.json(["Reviews": found.map(Self.review)])
    }

    func image(_ context: VisageContext) async throws -> Response {
        guard let found = try await reviews.image(id: try context.parameters.require("id")) else {
            throw WireError(status: .notFound, code: "NotFound", message: "No such review.")
        }
        let (bytes, format) = found
        return Response(status: .ok, headers: [.contentType: format == "png" ? "image/png" : "image/jpeg", .cacheControl: "no-store"],
                         body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"Category": "...", "Verdict": "approve" | "reject"}`.
    func decide(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await PeopleRoutes.body(request)
        guard let category = body["Category"]?.stringValue.flatMap(ModerationCategory.init(rawValue:)) else {
            throw PeopleRoutes.badRequest("Category must name one of the review's labels.")
        }
        guard let verdict = body["Verdict"]?.stringValue.flatMap(ReviewVerdict.init(rawValue:)) else {
            throw PeopleRoutes.badRequest("Verdict must be approve or reject.")
        }
        let reviewer = "web UI at \(context.remoteAddress ?? "this machine")"
        let review: ModerationReview
        do {
            review = try await reviews.decide(id: try context.parameters.require("id"), category: category, verdict: verdict, reviewer: reviewer)
        } catch let failure as ReviewFailure {
            switch failure {
            case .notFound: throw WireError(status: .notFound, code: "NotFound", message: "No such review.")
            case .completed: throw WireError(status: .conflict, code: "Conflict", message: "The review is already completed.")
            case .notALabel: throw PeopleRoutes.badRequest("The review has no such label.")
            case .quotaExceeded, .nameInUse: throw failure
            }
        }
        if review.status == .completed { try await outputs.write(review) }
        return UploadTokenRoutes.json(["Review": Self.review(review)])
    }

    static func review(_ review: ModerationReview) -> [String: any Sendable] {
        let verdicts = review.verdicts
        var body: [String: any Sendable] = [
            "Id": review.id, "Name": review.name, "AccountId": review.accountID, "Flow": review.flow, "Origin": review.origin,
            "Status": review.status.rawValue, "Created": MediaTime.text(review.created),
            "Labels": review.labels.map { label -> [String: any Sendable] in
                var item: [String: any Sendable] = [
                    "Category": label.category.rawValue, "Name": ModerationLabelNames.name(label.category),
                    "ParentName": label.category.parent.map(ModerationLabelNames.name) ?? "", "Level": label.category.level,
                    "Confidence": label.confidence,
                ]
                if let verdict = verdicts[label.category] { item["Verdict"] = verdict.rawValue }
                return item
            },
            "Decisions": review.decisions.map { decision -> [String: any Sendable] in
                ["Name": ModerationLabelNames.name(decision.category), "Verdict": decision.verdict.rawValue, "Reviewer": decision.reviewer,
                 "DecidedAt": MediaTime.text(decision.decided)]
            },
        ]
        if let completed = review.completed { body["Completed"] = MediaTime.text(completed) }
        return body
    }
}
