/// Runs `work` for every index in `0..<count` with at most `limit` running at once, starting the
/// next as each finishes, and hands each result to `done` in the order they finish. A failure of
/// `work` or `done` cancels the rest and is rethrown.
public func forEachConcurrently<T: Sendable>(
    _ count: Int, limit: Int, _ work: @escaping @Sendable (Int) async throws -> T,
    done: (Int, T) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        var next = 0
        func start() {
            guard next < count else { return }
            let index = next
            next += 1
            group.addTask { (index, try await work(index)) }
        }
        for _ in 0..<max(1, limit) { start() }
        while let (index, result) = try await group.next() {
            try await done(index, result)
            start()
        }
    }
}
