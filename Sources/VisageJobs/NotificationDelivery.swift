import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VisageCore

/// Posts queued notifications to their webhooks, signed (`NotificationSignature`). A delivery
/// that fails (no answer within the timeout, a status other than 2xx, a refused address) is
/// retried by the queue with exponential backoff; each message is its own task, so a slow or
/// failing receiver holds up only its own messages.
public struct NotificationDelivery: Sendable {
    let outbox: NotificationOutbox
    let key: SymmetricKey

    public init(outbox: NotificationOutbox, key: SymmetricKey) {
        self.outbox = outbox
        self.key = key
    }

    /// The worker pool that delivers.
    public func workers(logger: Logger) -> WorkerPool {
        WorkerPool(queue: outbox.queue, queueName: NotificationOutbox.queueName, concurrency: outbox.settings.concurrency,
                   pollInterval: .milliseconds(250), logger: logger) { task, _ in
            try await deliver(task)
        }
    }

    func deliver(_ task: QueuedTask) async throws -> String? {
        let message = try JSONDecoder().decode(OutgoingNotification.self, from: Data(task.payload.utf8))
        guard let url = message.target.url else {
            throw DeliveryFailure("no webhook is configured for \(message.target.name) (VISAGE_NOTIFY_TOPICS)")
        }
        let headers = [
            ("Content-Type", message.contentType ?? "application/json"),
            ("User-Agent", "Visage-Notifications"),
            ("X-Visage-Event-Id", message.eventID),
            ("X-Visage-Event-Type", message.type),
            (NotificationSignature.header, NotificationSignature.value(body: message.body, key: key, at: WallClock.nowMillis() / 1000)),
        ]
        // Redirects are not followed: the receiver is the URL the caller named.
        let answer: OutboundHTTP.Answer
        do {
            answer = try await OutboundHTTP(addresses: OutboundAddresses(allowed: outbox.settings.allowedPrivateNetworks))
                .send(.POST, url, headers: headers, body: Array(message.body.utf8), timeout: outbox.settings.timeout,
                      maxBytes: 64 * 1024)
        } catch let failure as OutboundFailure {
            throw DeliveryFailure("\(failure)")
        }
        guard (200..<300).contains(answer.status) else {
            throw DeliveryFailure("the endpoint answered HTTP \(answer.status)")
        }
        return "HTTP \(answer.status)"
    }
}

/// Why one delivery attempt failed, as kept with the message.
struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
