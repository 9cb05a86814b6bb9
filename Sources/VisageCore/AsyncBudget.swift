import Foundation

/// A weighted asynchronous semaphore: work waits, without holding a thread, until its share fits
/// in what is left (first come, first served; a share larger than the whole waits until it is
/// alone). With a capacity of 1 and shares of 1 it is an asynchronous lock.
public actor AsyncBudget {
    public let capacity: Int
    private var used = 0
    private var waiting: [(share: Int, resume: CheckedContinuation<Void, Never>)] = []

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Runs `work` once `share` fits, giving it back afterwards.
    public func run<T: Sendable>(_ share: Int = 1, _ work: @Sendable () async throws -> T) async throws -> T {
        let claim = min(max(0, share), capacity)
        await acquire(claim)
        defer { release(claim) }
        return try await work()
    }

    private func acquire(_ share: Int) async {
        if waiting.isEmpty && used + share <= capacity {
            used += share
            return
        }
        await withCheckedContinuation { waiting.append((share, $0)) }
    }

    private func release(_ share: Int) {
        used -= share
        // First come, first served: a large share at the head is not overtaken for ever.
        while let next = waiting.first, used + next.share <= capacity {
            waiting.removeFirst()
            used += next.share
            next.resume.resume()
        }
    }
}
