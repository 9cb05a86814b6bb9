import Foundation
import Synchronization
import Testing
import VisageCore
import VisageJobs
import VisageStore
import VisageTestSupport
import VisageVision
@testable import VisageMedia

/// Renders a callback as the pair's id, so a test can count them.
private struct IDFormat: ComparisonEventFormat {
    func callback(_ record: ComparisonRecord, outcome: ComparisonOutcome, data: String) -> (contentType: String, body: String) {
        ("text/plain", "\(record.id) \(data)")
    }
}

@Suite("Face comparisons")
struct FaceComparisonsTests {
    @Test("a pair is finished once with one callback, kept for the retention, reported expired, then forgotten",
          arguments: TestEngine.available)
    func lifecycle(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, directory in
            let clock = Mutex<Int64>(1_000_000)
            let now: @Sendable () -> Int64 = { clock.withLock { $0 } }
            let outbox = NotificationOutbox(store: store, settings: NotificationSettings())
            var settings = ComparisonSettings()
            settings.retention = .seconds(60)
            let objects = CatalogObjectStore(blobs: try LocalBlobFiles(root: directory.appendingPathComponent("objects")), store: store)
            let comparisons = FaceComparisons(
                store: store, queue: TaskQueue(store: store), outbox: outbox,
                comparison: PairComparison(objects: objects, engine: SharedFaceEngine(), outbound: outbox.outbound),
                settings: settings, formats: ["test": IDFormat()], clock: now)
            let pair = ComparisonSubmission(reference: "r", first: .web("https://example.com/a.jpg"), second: .object(bucket: "b", key: "k"))
            let callback = ComparisonCallback(target: NotificationTarget(url: "https://example.com/cb", name: "HTTP"), data: "seed")
            let ids = try await comparisons.submit([pair, pair], accountID: "100", origin: "test", idPrefix: "t-", callback: callback,
                                                   requestID: "req")
            #expect(ids.count == 2 && ids.allSatisfy { $0.hasPrefix("t-") } && Set(ids).count == 2)
            var records = try await comparisons.records(ids + ["unknown"], accountID: "100")
            #expect(records.count == 2 && records[ids[0]]?.state == .pending && records[ids[0]]?.first == pair.first)
            #expect(try await comparisons.records(ids, accountID: "other").isEmpty)

            let outcome = ComparisonOutcome.compared(PairSimilarity(similarity: 0.8, distance: 0.3, faces: [1, 2]))
            let pending = try #require(records[ids[0]])
            try await comparisons.finish(pending, outcome: outcome, callbackURL: "https://example.com/cb", callbackData: "seed")
            // A second finish (a retried attempt) changes nothing and queues no second callback.
            try await comparisons.finish(pending, outcome: .failed(.noFace(image: 1)), callbackURL: "https://example.com/cb",
                                         callbackData: "seed")
            records = try await comparisons.records(ids, accountID: "100")
            #expect(records[ids[0]]?.state == .finished(outcome))
            let events = try await outbox.events()
            #expect(events.map(\.body) == ["\(ids[0]) seed"])

            clock.withLock { $0 += 61_000 }
            #expect(try await comparisons.records(ids, accountID: "100")[ids[0]]?.state == .expired)
            try await comparisons.sweep()
            #expect(try await comparisons.records(ids, accountID: "100").count == 2)
            clock.withLock { $0 += 7 * 24 * 3600 * 1000 }
            try await comparisons.sweep()
            // The expired one is forgotten; the pending one stays.
            #expect(try await comparisons.records(ids, accountID: "100").keys.sorted() == [ids[1]])
        }
    }
}
