import Foundation

/// Runs CPU-bound or blocking work (image decoding, inference, clustering) on threads of its own,
/// so Swift's cooperative threads stay free to answer requests meanwhile. On Linux a dispatch
/// queue would share its worker threads with the cooperative executor, and seconds of decoding
/// there held up every other request (a health check waited for a large image); these threads
/// are the process's own.
public enum Blocking {
    /// Twice the cores (at least four): CPU work is bounded, and a job waiting on a lock or on a
    /// model's pool does not stop the others.
    static let threads = WorkerThreads(count: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount), name: "visage-blocking")

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threads.submit { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// A fixed set of threads taking jobs in order from one queue.
final class WorkerThreads: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []

    init(count: Int, name: String) {
        for index in 0..<count {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            // dlib's networks recurse through their layers: more than the default stack.
            thread.stackSize = 16 << 20
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
