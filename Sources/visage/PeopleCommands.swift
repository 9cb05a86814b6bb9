import ArgumentParser
import Foundation
import Synchronization
import VisageCore
import VisageJobs
import VisageMedia
import VisageServer

/// The project and dataset a people command works on (the root account's).
struct DatasetOptions: ParsableArguments {
    @Option(help: "Media project.") var project: String
    @Option(help: "Dataset of the project.") var dataset: String
}

/// `visage cluster --project P --dataset D`: groups the dataset's waiting faces into people.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Group a dataset's faces into people (incremental: people keep their faces and ids).",
        discussion: """
            Runs in this process on the data directory, as CreateFigureClusteringTask does in the server. \
            Settings: VISAGE_CLUSTER_THRESHOLD, VISAGE_CLUSTER_ATTACH_THRESHOLD, VISAGE_CLUSTER_NEIGHBOURS.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var target: DatasetOptions
    @Flag(name: .customLong("no-progress"), help: "Do not draw the progress bar.") var noProgress = false
    @Flag(help: "Cluster every face again from scratch, keeping names, placed faces and every correction.") var rebuild = false
    @Flag(name: .customLong("dry-run"), help: "With --rebuild: list what would change and write nothing.") var dryRun = false
    @Option(help: "Average-linkage threshold (default 0.5, or VISAGE_CLUSTER_THRESHOLD).") var threshold: Float?
    @Option(name: .customLong("attach-threshold"), help: "Distance under which a face joins a person (default 0.5).")
    var attachThreshold: Float?

    func validate() throws {
        if dryRun && !rebuild { throw ValidationError("--dry-run previews a --rebuild; add --rebuild.") }
        for value in [threshold, attachThreshold].compactMap({ $0 }) where !(0.1...1.5).contains(value) {
            throw ValidationError("Thresholds must be between 0.1 and 1.5.")
        }
    }

    func run() async throws {
        let configuration = try data.configuration
        var settings = ClusterSettings.fromEnvironment()
        if let threshold { settings.threshold = threshold }
        if let attachThreshold { settings.attachThreshold = attachThreshold }
        try await data.withDataDirectory { opened in
            let account = opened.root.credentials.AccountId
            let dataset = try await DatasetCatalog(store: opened.store).dataset(account: account, project: target.project,
                                                                                 name: target.dataset)
            let clustering = FigureClustering(
                store: opened.store, queue: TaskQueue(store: opened.store),
                outbox: NotificationOutbox(store: opened.store, settings: NotificationSettings()), events: VisageTaskEvents(),
                vectorsDirectory: configuration.layout.vectorsDirectory, settings: settings)
            let bar = ProgressBar(total: 100, enabled: !noProgress, unit: "%")
            let shown = Counter()
            let advance: @Sendable (Double) async -> Void = { fraction in bar.advance(by: shown.raise(to: Int64(fraction * 100))) }
            if rebuild {
                let preview = try await clustering.recluster(dataset: dataset.key, settings: settings, apply: !dryRun, progress: advance)
                bar.finish()
                Self.show(preview)
                return
            }
            let run = try await CommandRun.start(store: opened.store, dataset: dataset.key, type: FigureClustering.Kind.clustering.rawValue)
            let outcome: ClusteringOutcome
            do {
                outcome = try await clustering.cluster(dataset: dataset.key) { fraction in
                    await advance(fraction)
                    try? await run.progress(fraction)
                }
            } catch {
                try? await run.end(failure: "\(error)")
                throw error
            }
            try await run.end()
            bar.finish()
            print("\(outcome.newClusterIDs.count) new people, \(outcome.updatedClusterIDs.count) people grew, "
                  + "\(outcome.updatedFigureCount) faces placed, \(outcome.waitingFigureCount) faces wait for a person")
        }
    }

    /// Prints a re-clustering's changes, one person a line, and the totals.
    static func show(_ preview: ReclusterPreview) {
        let width = max(6, preview.changes.map(\.person.count).max() ?? 0)
        if !preview.changes.isEmpty {
            print("CHANGE     " + "PERSON".padding(toLength: width, withPad: " ", startingAt: 0) + "  FACES      INTO  NAME")
        }
        for change in preview.changes {
            let faces = "\(change.facesBefore) → \(change.facesAfter)"
            print(change.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + "  "
                  + change.person.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                  + faces.padding(toLength: 9, withPad: " ", startingAt: 0) + "  "
                  + (change.into.isEmpty ? "-" : change.into.joined(separator: ",")) + "  " + change.name)
        }
        let totals = [ReclusterPreview.Change.Kind.created, .merged, .split, .dissolved, .kept].map { "\(preview.count($0)) \($0.rawValue)" }
        print(totals.joined(separator: ", ") + ", \(preview.movedFaces) faces move"
              + (preview.applied ? "; applied." : preview.movedFaces == 0 ? "; nothing to apply." : "; nothing written (dry run)."))
    }

    /// The highest percentage drawn so far, so the bar only moves forward.
    final class Counter: Sendable {
        private let value = Mutex<Int64>(0)

        /// Raises the value to `target` and returns by how much it rose.
        func raise(to target: Int64) -> Int64 {
            value.withLock { current in
                let step = max(0, target - current)
                current += step
                return step
            }
        }
    }
}

/// `visage people --project P --dataset D`: lists the people of a dataset.
struct People: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the people (figure clusters) of a dataset, most photos first.")

    @OptionGroup var data: DataOptions
    @OptionGroup var target: DatasetOptions

    func run() async throws {
        try await data.withDataDirectory { opened in
            let account = opened.root.credentials.AccountId
            let dataset = try await DatasetCatalog(store: opened.store).dataset(account: account, project: target.project,
                                                                                 name: target.dataset)
            let store = FigureClusterStore(store: opened.store)
            var listing = ClusterListing()
            listing.sort = .imageCount
            listing.descending = true
            listing.limit = Int.max
            let (people, _) = try await store.clusters(dataset: dataset.key, listing)
            let covers = try await store.covers(dataset: dataset.key, of: people)
            guard !people.isEmpty else {
                print("No people yet: run `visage cluster --project \(target.project) --dataset \(target.dataset)`.")
                return
            }
            let width = max(4, people.map(\.id.count).max() ?? 0)
            print("ID".padding(toLength: width, withPad: " ", startingAt: 0) + "  PHOTOS  FACES  NAME / COVER")
            for person in people {
                let name = person.name.isEmpty ? "(unnamed)" : person.name
                let cover = covers[person.id]?.document["URI"]?.stringValue ?? ""
                print(person.id.padding(toLength: width, withPad: " ", startingAt: 0)
                      + String(format: "  %6d  %5d  ", person.imageCount, person.faceCount) + "\(name)  \(cover)")
            }
        }
    }
}
