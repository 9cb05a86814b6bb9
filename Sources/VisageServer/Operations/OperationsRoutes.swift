import Foundation
import Hummingbird
import NIOCore
import VisageJobs
import VisageStore

/// `GET /healthz` (is the metadata store answering?) and `GET /metrics` (Prometheus text).
struct OperationsRoutes {
    let store: MetadataStore
    let metrics: HTTPMetrics
    let role: ServerRole
    let started = Date()

    func add(to router: Router<VisageContext>) {
        router.get("healthz") { _, _ -> Response in
            var status = "ok"
            var schema = 0
            do {
                schema = try await store.schemaVersion()
            } catch {
                status = "unavailable"
            }
            let body: [String: any Sendable] = [
                "status": status, "database": store.kind.rawValue, "schemaVersion": schema, "role": role.rawValue,
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
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
