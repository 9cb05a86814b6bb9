import ArgumentParser
import Foundation
import VisageServer
import VisageVision

/// `visage moderate IMAGE...`: moderation labels of each image.
struct Moderate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print, per image, the moderation labels as JSON in the shape of Rekognition's DetectModerationLabels response.",
        discussion: "Labels come from the NudeNet body-part detector and the open_nsfw classifier; see docs/moderation.md.")

    @Option(help: "OpenVINO inference threads, 0 for its own choice (env VISAGE_INFERENCE_THREADS).")
    var threads: Int?
    @Option(help: "Leave out labels below this confidence (0–100).") var minConfidence: Double = 50
    @Flag(help: "Add the models' own outputs: body parts with boxes and the whole-image explicit score (not Rekognition fields).")
    var raw = false
    @Argument(help: "Image files.") var images: [String]

    func validate() throws {
        guard (0...100).contains(minConfidence) else { throw ValidationError("--min-confidence must be from 0 to 100") }
    }

    func run() async throws {
        let threads = threads ?? Environment.value("VISAGE_INFERENCE_THREADS").flatMap(Int.init) ?? 0
        let moderator = try ContentModerator.load(threads: threads)
        var failed = false
        for path in images {
            do {
                let assessment = try await moderator.assess([UInt8](try InputFiles.read(path)))
                var result = ModerationLabelNames.response(assessment, minConfidence: minConfidence)
                result["File"] = path
                if raw {
                    result["ExplicitScore"] = assessment.explicitScore
                    result["BodyParts"] = assessment.parts.map { part -> [String: Any] in
                        ["Part": part.part.rawValue, "Score": part.score,
                         "Box": [part.box.left, part.box.top, part.box.width, part.box.height].map { ($0 * 10).rounded() / 10 }]
                    }
                }
                let line = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: line, as: UTF8.self))
            } catch {
                failed = true
                let line = error is CommandFailure ? "\(error)" : "\(path): \(Self.reason(error))"
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case let refusal as ModerationRefusal:
            switch refusal {
            case .unsupportedFormat: return "not an image in a supported format"
            case let .tooLarge(bytes, limit): return "the image is \(bytes) bytes; the limit is \(limit)"
            case let .tooManyPixels(width, height, limit): return "the image is \(width)×\(height) pixels; the limit is \(limit)"
            case let .tooSmall(width, height, minimum): return "the image is \(width)×\(height) pixels; the minimum side is \(minimum)"
            case let .corrupt(detail): return "the image data is damaged: \(detail)"
            }
        default: return "\(error)"
        }
    }
}
