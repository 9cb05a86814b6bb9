import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import VisageMedia

/// Follows object changes for dataset bindings while the server runs.
struct BindingFollower: Service {
    let bindings: DatasetBindings
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await bindings.run(logger: logger) }
    }
}

/// Runs a piece of upkeep at a fixed interval while the server runs; a failure is logged and
/// tried again at the next interval.
struct Periodic: Service {
    let name: String
    let every: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await work()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("upkeep failed", metadata: ["work": "\(name)", "error": "\(error)"])
                }
                try? await Task.sleep(for: every)
            }
        }
    }
}

/// Caps the connections served at once: beyond the cap new connections wait in the listen queue
/// instead of using up the open files the stores need. Says so in the log when the cap is reached.
struct ConnectionCap: AvailableConnectionsDelegate {
    let limit: Int
    let logger: Logger
    private var open = 0

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    mutating func connectionOpened() {
        open += 1
        if open == limit {
            logger.warning("connection limit reached: new connections wait until others close",
                           metadata: ["limit": "\(limit)"])
        }
    }

    mutating func connectionClosed() {
        open -= 1
    }

    func isAcceptingNewConnections() -> Bool { open < limit }
}
