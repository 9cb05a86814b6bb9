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
    let client: HTTPClient

    /// `client` should not follow redirects: a redirect could lead to an address the check refused.
    public init(outbox: NotificationOutbox, key: SymmetricKey, client: HTTPClient) {
        self.outbox = outbox
        self.key = key
        self.client = client
    }

    /// An HTTP client for deliveries: no redirects, short connect timeout.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
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
        try await OutboundAddresses(allowed: outbox.settings.allowedPrivateNetworks).check(url, field: "endpoint")
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Visage-Notifications")
        request.headers.add(name: "X-Visage-Event-Id", value: message.eventID)
        request.headers.add(name: "X-Visage-Event-Type", value: message.type)
        request.headers.add(name: NotificationSignature.header,
                            value: NotificationSignature.value(body: message.body, key: key, at: WallClock.nowMillis() / 1000))
        request.body = .bytes(ByteBuffer(string: message.body))
        let timeout = TimeAmount.milliseconds(Int64(outbox.settings.timeout.seconds * 1000))
        let response = try await client.execute(request, timeout: timeout)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else {
            throw DeliveryFailure("the endpoint answered HTTP \(response.status.code)")
        }
        return "HTTP \(response.status.code)"
    }
}

/// Why one delivery attempt failed, as kept with the message.
struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
