import Foundation
import Synchronization

/// How long this process's task attempts took, per queue and outcome, as histograms for the
/// metrics page. Each process counts the attempts it ran; queue depth, by contrast, is shared.
public final class TaskTimings: Sendable {
    /// The timings of the task attempts this process runs.
    public static let process = TaskTimings()

    /// Upper bounds of the histogram buckets, in seconds.
    public static let bounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

    /// One queue and outcome's histogram: counts per bucket (not cumulative), total count and sum.
    public struct Histogram: Sendable, Equatable {
        public var buckets = [Int](repeating: 0, count: TaskTimings.bounds.count)
        public var count = 0
        public var sum = 0.0
    }

    private let state = Mutex<[String: [String: Histogram]]>([:])

    public init() {}

    /// Records one attempt of a task of `queue` that ended with `outcome` after `duration`.
    public func record(queue: String, outcome: String, duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) / 1e18
        state.withLock { all in
            var histogram = all[queue]?[outcome] ?? Histogram()
            if let index = Self.bounds.firstIndex(where: { value <= $0 }) { histogram.buckets[index] += 1 }
            histogram.count += 1
            histogram.sum += value
            all[queue, default: [:]][outcome] = histogram
        }
    }

    /// Every histogram so far, by queue and outcome, in name order.
    public func snapshot() -> [(queue: String, outcome: String, histogram: Histogram)] {
        state.withLock { all in
            all.keys.sorted().flatMap { queue in
                all[queue]!.keys.sorted().map { (queue: queue, outcome: $0, histogram: all[queue]![$0]!) }
            }
        }
    }

    /// The Prometheus text of the histograms (`visage_task_duration_seconds`).
    public func exposition() -> String {
        let all = snapshot()
        guard !all.isEmpty else { return "" }
        var text = "# HELP visage_task_duration_seconds Time a task attempt took in this process, by queue and outcome\n"
        text += "# TYPE visage_task_duration_seconds histogram\n"
        for (queue, outcome, histogram) in all {
            let labels = "queue=\"\(queue)\",outcome=\"\(outcome)\""
            var cumulative = 0
            for (index, bound) in Self.bounds.enumerated() {
                cumulative += histogram.buckets[index]
                text += "visage_task_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "visage_task_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(histogram.count)\n"
            text += "visage_task_duration_seconds_sum{\(labels)} \(histogram.sum)\n"
            text += "visage_task_duration_seconds_count{\(labels)} \(histogram.count)\n"
        }
        return text
    }
}
