import Foundation

/// Runs CPU-bound or blocking work (image decoding, inference, clustering) on threads of its
/// own, so Swift's cooperative threads stay free to answer requests meanwhile.
public enum Blocking {
    static let queue = DispatchQueue(label: "visage.blocking", attributes: .concurrent)

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
