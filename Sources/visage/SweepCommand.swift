import ArgumentParser
import Foundation

/// `visage sweep`: removes object bytes that no object or unfinished upload refers to.
struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove object bytes no object or part refers to (left by a write whose catalog update failed or whose process died).",
        discussion: """
            Safe while servers run. Local files still held by a writer are skipped; in an S3-compatible \
            bucket, bytes younger than VISAGE_S3_SWEEP_GRACE_SECONDS (default 3600) are skipped, and \
            unfinished backend uploads older than a day are aborted. Run it from a timer.
            """)

    @OptionGroup var data: DataOptions

    func run() async throws {
        let removed = try await data.withObjectStore { objects, _ in try await objects.sweep() }
        print("removed \(removed) unreferenced blob\(removed == 1 ? "" : "s")")
    }
}
