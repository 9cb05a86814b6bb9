import Foundation
import Prometheus

/// Request counts and latency histograms per route, method and status, kept in a registry owned
/// by the application (no process-wide metrics bootstrap).
public struct HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    static var requests: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "visage", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests answered") }
    static var latency: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "visage", subsystem: "http", metricName: "request_duration", unitName: "seconds",
        helpText: "Time from request to response head") }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.latency, labels: labels, buckets: Self.buckets)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
