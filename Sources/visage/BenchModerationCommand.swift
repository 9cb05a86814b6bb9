import ArgumentParser
import Foundation
import VisageVision

/// `visage bench moderation DIR...`: moderation throughput (decode, body-part detector and
/// whole-image classifier per image) on the photos of the given folders, one image at a time.
struct BenchModeration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moderation", abstract: "Moderation speed on folders of photos, one image at a time.")

    @Option(help: "OpenVINO inference threads, 0 for its own choice (env VISAGE_INFERENCE_THREADS).")
    var threads: Int?
    @Argument(help: "Folders of JPEG or PNG photos (searched to any depth).") var folders: [String]

    func run() async throws {
        let loadStart = ContinuousClock.now
        let moderator = try ContentModerator.load(threads: threads ?? Environment.value("VISAGE_INFERENCE_THREADS").flatMap(Int.init) ?? 0)
        print("models loaded in \(format(ContinuousClock.now - loadStart))")
        var images: [Data] = []
        for folder in folders {
            let url = URL(fileURLWithPath: folder)
            // Photos may sit in one folder per person: every file below the folder counts.
            let names = (FileManager.default.subpaths(atPath: folder) ?? []).sorted()
                .filter { [".jpg", ".jpeg", ".png"].contains(where: $0.lowercased().hasSuffix) }
            images += try names.map { try Data(contentsOf: url.appendingPathComponent($0)) }
        }
        guard let first = images.first else { throw CommandFailure("no JPEG or PNG photos in \(folders.joined(separator: ", "))") }
        // The first inference prepares OpenVINO's kernels: measured apart.
        _ = try await moderator.assess([UInt8](first))
        var latencies: [Duration] = []
        let start = ContinuousClock.now
        for image in images {
            let began = ContinuousClock.now
            _ = try await moderator.assess([UInt8](image))
            latencies.append(ContinuousClock.now - began)
        }
        let elapsed = ContinuousClock.now - start
        latencies.sort()
        print("images \(images.count), \(String(format: "%.2f", Double(images.count) / Measure.seconds(elapsed))) images/s, "
              + "median \(format(latencies[latencies.count / 2])) per image, resident memory \(Measure.residentMegabytes()) MB")
    }

    func format(_ duration: Duration) -> String { String(format: "%.0f ms", Measure.seconds(duration) * 1000) }
}
