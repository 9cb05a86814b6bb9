import Foundation
import Hummingbird
import VisageCore
import VisageMedia
import VisageStore

/// `GET /visage/v1/overview`: what this server holds (datasets with their files, faces and
/// people, tasks running, storage used), for the web UI's Overview page. It names every
/// account's datasets, so it answers callers on this machine only.
struct OverviewRoutes {
    let store: MetadataStore
    let objects: any ObjectStore

    func add(to router: Router<VisageContext>) {
        router.group("visage/v1/overview").add(middleware: LoopbackOnly()).get { _, _ -> Response in
            try await overview()
        }
    }

    func overview() async throws -> Response {
        let datasets = try await DatasetCatalog(store: store).summaries()
        let running = try await MediaTaskStore(store: store).runningCount()
        let usage = try await objects.usage()
        func total(_ count: (DatasetSummary) -> Int) -> Int { datasets.reduce(0) { $0 + count($1) } }
        return UploadTokenRoutes.json([
            "Datasets": datasets.map(Self.dataset),
            "Totals": ["Datasets": datasets.count, "Files": total(\.files), "Faces": total(\.faces), "People": total(\.people),
                       "UnsortedFaces": total(\.unsortedFaces)] as [String: any Sendable],
            "TasksRunning": running,
            "Storage": ["Objects": usage.objects, "Bytes": usage.bytes] as [String: any Sendable],
        ])
    }

    /// A dataset with its counts, as the Overview and People pages show it.
    static func dataset(_ summary: DatasetSummary) -> [String: any Sendable] {
        ["AccountId": summary.key.accountID, "ProjectName": summary.key.project, "DatasetName": summary.key.dataset,
         "Files": summary.files, "Faces": summary.faces, "People": summary.people, "UnsortedFaces": summary.unsortedFaces]
    }
}
