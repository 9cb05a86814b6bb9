import Foundation
import Synchronization

/// Owns a pointer from a C library and frees it when the last reference goes.
final class NativeHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private let free: (OpaquePointer) -> Void

    init(_ pointer: OpaquePointer, free: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    deinit { free(pointer) }
}

/// Native objects that serve one caller at a time (infer requests, dlib networks), lent out
/// one per caller; callers beyond the pool's size wait on their thread.
final class ExclusivePool: Sendable {
    private let items: Mutex<[NativeHandle]>
    private let slots: DispatchSemaphore

    init(_ items: [NativeHandle]) {
        precondition(!items.isEmpty, "an empty pool would block forever")
        self.items = Mutex(items)
        slots = DispatchSemaphore(value: items.count)
    }

    func withItem<T>(_ body: (NativeHandle) throws -> T) rethrows -> T {
        slots.wait()
        let item = items.withLock { $0.removeLast() }
        defer {
            items.withLock { $0.append(item) }
            slots.signal()
        }
        return try body(item)
    }
}
