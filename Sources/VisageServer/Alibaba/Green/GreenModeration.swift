import Foundation
import VisageMedia
import VisageVision

/// Content Moderation's image scene `porn` (labels `normal`, `sexy`, `porn`) over the same
/// moderation core that answers Rekognition's DetectModerationLabels. From the core's labels:
/// `porn` when the top-level explicit label is at least 50 (rate = its confidence; `block` from
/// 90, else `review`); else `sexy` when non-explicit nudity or swimwear/underwear is at least 50
/// (`review`); else `normal` (`pass`), rate = 100 less the strongest of those.
enum GreenModeration {
    static let scene = "porn"
    static let blockAt = 90.0

    static func sceneResult(_ assessment: ModerationAssessment) -> [String: any Sendable] {
        func confidence(_ category: ModerationCategory) -> Double {
            assessment.labels.first { $0.category == category }?.confidence ?? 0
        }
        let porn = confidence(.explicit)
        let sexy = max(confidence(.nonExplicitNudityOfIntimateParts), confidence(.swimwearOrUnderwear))
        let (label, suggestion, rate): (String, String, Double)
        if porn >= 50 {
            (label, suggestion, rate) = ("porn", porn >= blockAt ? "block" : "review", porn)
        } else if sexy >= 50 {
            (label, suggestion, rate) = ("sexy", "review", sexy)
        } else {
            (label, suggestion, rate) = ("normal", "pass", 100 - max(porn, sexy))
        }
        return ["scene": scene, "label": label, "suggestion": suggestion, "rate": (rate * 100).rounded() / 100]
    }
}

extension GreenImageOperations {
    /// `POST /green/image/scan` with scene `porn`: each valid task's image moderated now.
    func moderationScan(_ request: GreenScanRequest, call: GreenCall) async throws -> [any Sendable] {
        var items: [any Sendable] = []
        for task in request.tasks {
            guard task.refusal == nil, let reference = task.reference else {
                items.append(GreenResults.item(code: .badRequest, detail: task.refusal, taskID: nil, reference: task.reference))
                continue
            }
            do {
                let bytes = try await comparisons.comparison.bytes(of: try await source(reference.url, call: call, image: 1), image: 1)
                let assessment: ModerationAssessment
                do {
                    assessment = try await moderator.get().assess(bytes)
                } catch let refusal as ModerationRefusal {
                    let code: GreenCode = switch refusal {
                    case .unsupportedFormat, .corrupt: .badFormat
                    case .tooLarge, .tooManyPixels, .tooSmall: .downloadFailed
                    }
                    items.append(GreenResults.item(code: code, detail: "url: \(refusal)", taskID: nil, reference: reference))
                    continue
                }
                var item = GreenResults.item(code: .ok, taskID: nil, reference: reference)
                item["results"] = [GreenModeration.sceneResult(assessment)]
                items.append(item)
            } catch let failure as ComparisonFailure {
                let (code, detail) = GreenResults.code(for: failure)
                items.append(GreenResults.item(code: code, detail: detail, taskID: nil, reference: reference))
            } catch let error as WireError {
                items.append(GreenResults.item(code: .forbidden, detail: error.message, taskID: nil, reference: reference))
            }
        }
        return items
    }
}
