import Foundation
import Hummingbird
import NIOCore
import VisageJobs
import VisageStore

/// `GET /healthz` (are the metadata store and the object backend answering?) and `GET /metrics`
/// (Prometheus text).
struct OperationsRoutes {
    let store: MetadataStore
    let objects: any ObjectStore
    let objectBackend: String
    let metrics: HTTPMetrics
    let role: ServerRole
    let started = Date()

    init(_ components: ServerComponents) {
        store = components.store
        objects = components.objects
        objectBackend = components.configuration.objectBackend == nil ? "local" : "s3"
        metrics = components.metrics
        role = components.configuration.role
    }

    func add(to router: Router<VisageContext>) {
        router.get("healthz") { _, _ -> Response in
            // Both checked at once, each within a few seconds, so a hung backend cannot hang the check.
            async let schemaCheck = Self.within(.seconds(5)) { try await store.schemaVersion() }
            async let objectCheck: Void? = Self.within(.seconds(5)) { try await objects.checkBackend() }
            let schema = await schemaCheck
            let objectsReachable = await objectCheck != nil
            let status = schema != nil && objectsReachable ? "ok" : "unavailable"
            let body: [String: any Sendable] = [
                "status": status, "database": store.kind.rawValue, "databaseReachable": schema != nil, "schemaVersion": schema ?? 0,
                "objectStore": objectBackend, "objectStoreReachable": objectsReachable, "role": role.rawValue,
                "uptimeSeconds": Int(Date().timeIntervalSince(started)),
            ]
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            return Response(status: status == "ok" ? .ok : .serviceUnavailable,
                            headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("metrics") { _, _ -> Response in
            var text = metrics.exposition()
            // Work waiting in the durable queue (shared by every process on one database).
            if let depths = try? await TaskQueue(store: store).depths() {
                text += "# HELP visage_queue_tasks Tasks of the durable queue still to be done, by queue and status\n"
                text += "# TYPE visage_queue_tasks gauge\n"
                for (queue, status, count) in depths {
                    text += "visage_queue_tasks{queue=\"\(queue)\",status=\"\(status.rawValue.lowercased())\"} \(count)\n"
                }
            }
            text += TaskTimings.process.exposition()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// The result of `work`, or nil when it fails or takes longer than `limit` (then it is cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async -> T? {
        let task = Task { try await work() }
        let timer = Task {
            try await Task.sleep(for: limit)
            task.cancel()
        }
        defer { timer.cancel() }
        return try? await task.value
    }
}
