import Foundation
import SQLKit
import Testing
import VisageCore
import VisageStore
import VisageTestSupport
@testable import VisageMedia

@Suite("Clustering order")
struct ClusteringOrderTests {
    @Test("the same photos make the same people, numbered alike, whatever order they were indexed in",
          arguments: TestEngine.available)
    func indexingOrder(engine: TestEngine) async throws {
        try await ReclusterTests.withDataset(engine) { store, clustering in
            let first = ReclusterTests.dataset
            let second = DatasetKey(accountID: "100", project: "p", dataset: "d2")
            _ = try await DatasetCatalog(store: store).create(account: "100", project: "p", name: "d2", changes: DatasetChanges())
            // Five people of three photos each, far apart in 8 dimensions.
            let photos: [(uri: String, vector: [Float])] = (0..<5).flatMap { person in
                (0..<3).map { shot in
                    var vector = [Float](repeating: 0, count: 8)
                    vector[person] = 1
                    vector[5 + shot] = 0.02
                    return (uri: "oss://b/person\(person)/\(shot).jpg", vector: vector)
                }
            }
            // Ids are random in real indexing; here the second dataset's run the other way, so an
            // order taken from them would differ between the two.
            func index(_ dataset: DatasetKey, _ order: [Int]) async throws {
                try await store.withConnection { db in
                    for (rank, photo) in order.enumerated() {
                        let (uri, vector) = photos[photo]
                        let file = "file-\(rank)"
                        try await db.raw("""
                            INSERT INTO media_files (id, dataset_key, uri, size, document, created_at, updated_at)
                            VALUES (\(bind: "\(dataset.dataset)-\(file)"), \(bind: dataset.description), \(bind: uri), 1, '{}', 0, 0)
                            """).run()
                        try await db.raw("""
                            INSERT INTO media_faces (figure_id, dataset_key, file_id, embedding, quality_ok, quality)
                            VALUES (\(bind: "\(dataset.dataset)-face-\(rank)"), \(bind: dataset.description),
                                    \(bind: "\(dataset.dataset)-\(file)"),
                                    \(bind: vector.withUnsafeBufferPointer { Data(buffer: $0) }), 1, 0.9)
                            """).run()
                    }
                }
            }
            try await index(first, Array(photos.indices))
            try await index(second, Array(photos.indices.reversed()))
            func people(_ dataset: DatasetKey) async throws -> [String: String] {
                let rows = try await store.withConnection { db in
                    try await db.raw("""
                        SELECT m.uri, f.cluster_id FROM media_faces f JOIN media_files m ON m.id = f.file_id
                        WHERE f.dataset_key = \(bind: dataset.description)
                        """).all()
                }
                return Dictionary(uniqueKeysWithValues: try rows.map {
                    (try $0.decode(column: "uri", as: String.self), try $0.decode(column: "cluster_id", as: String?.self) ?? "-")
                })
            }
            _ = try await clustering.cluster(dataset: first)
            _ = try await clustering.cluster(dataset: second)
            let one = try await people(first), two = try await people(second)
            #expect(Set(one.values).count == 5 && one.values.allSatisfy { $0.hasPrefix("Cluster-") })
            #expect(one == two)
        }
    }
}
