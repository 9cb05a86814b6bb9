import Foundation
import Hummingbird
import NIOCore
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
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }
}
