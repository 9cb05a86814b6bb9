import Foundation
import Synchronization

/// Calls per second per account, as a token bucket: up to `perSecond` calls in any one second,
/// refilled continuously. In memory and per process: a limit for one server, not a cluster.
final class CallRateLimit: Sendable {
    let perSecond: Double
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    init(perSecond: Int) {
        self.perSecond = Double(max(1, perSecond))
    }

    /// Takes one call from the account's allowance; false when none is left.
    func admit(_ account: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[account] ?? (perSecond, now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(perSecond, bucket.tokens + seconds * perSecond)
            bucket.at = now
            let admitted = bucket.tokens >= 1
            if admitted { bucket.tokens -= 1 }
            buckets[account] = bucket
            if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.at < .seconds(10) } }
            return admitted
        }
    }
}
