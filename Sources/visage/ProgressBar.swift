import Foundation
import Synchronization

/// A one-line progress bar on standard error with rate and time left; drawn only on a terminal,
/// at most ten times a second.
final class ProgressBar: Sendable {
    private struct State {
        var done: Int64 = 0
        var lastDraw: ContinuousClock.Instant?
    }

    private let total: Int64?
    private let enabled: Bool
    /// Counts are bytes unless a unit name for items (such as "files") is given.
    private let unit: String?
    private let start = ContinuousClock.now
    private let state = Mutex(State())

    init(total: Int64?, enabled: Bool, unit: String? = nil) {
        self.total = total
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
        self.unit = unit
    }

    func advance(by count: Int64) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            state.done += count
            let now = ContinuousClock.now
            if let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            return render(done: state.done, now: now)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard enabled else { return }
        let line = state.withLock { render(done: $0.done, now: .now) }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func render(done: Int64, now: ContinuousClock.Instant) -> String {
        let seconds = max(0.001, Double((now - start).components.attoseconds) / 1e18 + Double((now - start).components.seconds))
        let rate = Double(done) / seconds
        var size = ByteCountFormatter.string(fromByteCount: done, countStyle: .binary)
        var speed = ByteCountFormatter.string(fromByteCount: Int64(rate), countStyle: .binary) + "/s"
        if let unit {
            size = "\(done)/\(total.map(String.init) ?? "?") \(unit)"
            speed = String(format: "%.1f \(unit)/s", rate)
        }
        guard let total, total > 0 else { return "\r\(size)  \(speed)" }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let eta = rate > 0 ? Int(Double(total - done) / rate) : 0
        return "\r[\(bar)] \(Int(fraction * 100))%  \(size)  \(speed)  ETA \(eta / 60)m\(String(format: "%02d", eta % 60))s"
    }
}
