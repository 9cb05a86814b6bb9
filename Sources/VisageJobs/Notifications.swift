import Crypto
import Foundation
import SQLKit
import VisageCore
import VisageStore

/// How outgoing notifications are delivered: where named topics go, which networks webhooks may
/// reach, and how often and for how long a failing delivery is retried.
public struct NotificationSettings: Sendable {
    /// Webhook URL per message-queue topic name, so a request naming an MNS or RocketMQ topic
    /// (as cloud SDK code does) is delivered to a webhook instead.
    public var topics: [String: String]
    /// Networks outgoing requests (webhooks, image URLs) may reach although they are private,
    /// loopback or link-local.
    public var allowedPrivateNetworks: [IPNetwork]
    public var attempts: Int
    public var retryBase: Duration
    public var retryCap: Duration
    public var timeout: Duration
    public var concurrency: Int

    public init(topics: [String: String] = [:], allowedPrivateNetworks: [IPNetwork] = [], attempts: Int = 16,
                retryBase: Duration = .seconds(30), retryCap: Duration = .seconds(3600), timeout: Duration = .seconds(10),
                concurrency: Int = 4) {
        self.topics = topics
        self.allowedPrivateNetworks = allowedPrivateNetworks
        self.attempts = attempts
        self.retryBase = retryBase
        self.retryCap = retryCap
        self.timeout = timeout
        self.concurrency = concurrency
    }

    /// Defaults: 16 attempts, 30 s doubling to at most an hour between them (about 9 hours in
    /// all), 10 s per attempt, 4 at once, public addresses only.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> NotificationSettings
    {
        var settings = NotificationSettings()
        for entry in (environment["VISAGE_NOTIFY_TOPICS"] ?? "").split(separator: ",") {
            let pair = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, NotificationTarget.isWebURL(pair[1]) else {
                throw VisageError.invalidArgument(field: "VISAGE_NOTIFY_TOPICS", message: "entries are TOPIC=http(s)://URL")
            }
            settings.topics[pair[0]] = pair[1]
        }
        // One setting for every outgoing request (webhooks and image URLs); the older name still counts.
        let networksName = environment["VISAGE_ALLOW_NETWORKS"] != nil ? "VISAGE_ALLOW_NETWORKS" : "VISAGE_NOTIFY_ALLOW_NETWORKS"
        for text in (environment[networksName] ?? "").split(separator: ",") {
            guard let network = IPNetwork(text.trimmingCharacters(in: .whitespaces)) else {
                throw VisageError.invalidArgument(field: networksName, message: "\(text) is not an address or CIDR block")
            }
            settings.allowedPrivateNetworks.append(network)
        }
        if let value = environment["VISAGE_NOTIFY_ATTEMPTS"].flatMap(Int.init) { settings.attempts = max(1, value) }
        if let value = environment["VISAGE_NOTIFY_RETRY_SECONDS"].flatMap(Double.init) { settings.retryBase = .milliseconds(Int(value * 1000)) }
        if let value = environment["VISAGE_NOTIFY_TIMEOUT_SECONDS"].flatMap(Double.init) { settings.timeout = .milliseconds(Int(value * 1000)) }
        return settings
    }
}

/// Where one notification goes: a webhook URL, or a named topic with no webhook (kept for
/// inspection, never delivered).
public struct NotificationTarget: Sendable, Codable, Equatable {
    public let url: String?
    /// How the request named the target (`HTTP`, `MNS topic t`…), for `visage events`.
    public let name: String

    public init(url: String?, name: String) {
        self.url = url
        self.name = name
    }

    public static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else { return false }
        return scheme == "http" || scheme == "https"
    }
}

/// One message as it is delivered and kept: the body and its target.
struct OutgoingNotification: Codable {
    let eventID: String
    let type: String
    let target: NotificationTarget
    let body: String
    /// The body's media type; nil (as in messages queued before it was kept) is JSON.
    var contentType: String?
}

/// Outgoing notifications: each message is a task of its own in the durable queue, written in
/// the transaction of the work it reports, and delivered by `NotificationDelivery`.
public struct NotificationOutbox: Sendable {
    public static let queueName = "notify"
    let queue: TaskQueue
    let settings: NotificationSettings

    public init(store: MetadataStore, settings: NotificationSettings,
                clock: @escaping @Sendable () -> Int64 = WallClock.nowMillis) {
        self.queue = TaskQueue(store: store, lease: .seconds(max(30, Int(settings.timeout.seconds) * 3)),
                               backoffBase: settings.retryBase, backoffCap: settings.retryCap, clock: clock)
        self.settings = settings
    }

    /// A webhook target: refused unless `url` is an http(s) URL on a public address (or on a
    /// private network the settings allow). `field` names the request value in errors.
    public func webhook(_ url: String, field: String) async throws -> NotificationTarget {
        guard NotificationTarget.isWebURL(url) else {
            throw VisageError.invalidArgument(field: field, message: "must be an http:// or https:// URL")
        }
        try await OutboundAddresses(allowed: settings.allowedPrivateNetworks).check(url, field: field)
        return NotificationTarget(url: url, name: "HTTP")
    }

    /// A message-queue topic (`kind` names the queue service): delivered to the webhook the
    /// settings map its name to, or only kept for inspection when none is.
    public func topic(_ name: String, kind: String) -> NotificationTarget {
        NotificationTarget(url: settings.topics[name], name: "\(kind) topic \(name)")
    }

    /// Queues a message in the caller's transaction.
    public func enqueue(eventID: String, type: String, body: String, contentType: String? = nil, to target: NotificationTarget,
                        db: any SQLDatabase) async throws {
        let payload = OutgoingNotification(eventID: eventID, type: type, target: target, body: body, contentType: contentType)
        let text = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        try await queue.enqueue(queue: Self.queueName, payload: text, maxAttempts: target.url == nil ? 1 : settings.attempts,
                                id: eventID, db: db)
    }

    /// Outgoing HTTP held to the same networks as webhooks (image URLs use it too).
    public var outbound: OutboundHTTP { OutboundHTTP(addresses: OutboundAddresses(allowed: settings.allowedPrivateNetworks)) }

    /// The queue deliveries are leased from (for delivery workers and tests).
    public var deliveries: TaskQueue { queue }

    /// Kept notifications, newest first.
    public func events(limit: Int = 50) async throws -> [NotificationRecord] {
        try await queue.tasks(queue: Self.queueName, limit: limit).compactMap(NotificationRecord.init)
    }
}

/// A notification as kept for inspection.
public struct NotificationRecord: Sendable {
    public let eventID: String
    public let type: String
    public let target: NotificationTarget
    public let body: String
    /// Queued (waiting for its next attempt), Running, Succeeded (delivered) or Failed (gave up).
    public let status: TaskStatus
    public let attempts: Int
    public let lastError: String?
    public let nextAttempt: Date
    public let created: Date

    init?(_ task: QueuedTask) {
        guard let payload = try? JSONDecoder().decode(OutgoingNotification.self, from: Data(task.payload.utf8)) else { return nil }
        eventID = payload.eventID
        type = payload.type
        target = payload.target
        body = payload.body
        status = task.status
        attempts = task.attempts
        lastError = task.lastError
        nextAttempt = task.runAfter
        created = task.created
    }
}

/// The signature a receiver checks: `X-Visage-Signature: t=UNIX_SECONDS,v1=HEX`, where HEX is
/// HMAC-SHA256 over "UNIX_SECONDS.BODY" with the server's notification key.
public enum NotificationSignature {
    public static let header = "X-Visage-Signature"
    /// The key derivation's purpose string: the key is HKDF-SHA256 of the data directory's key.
    public static let purpose = "visage-notifications-v1"

    public static func value(body: String, key: SymmetricKey, at seconds: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(seconds).\(body)".utf8), using: key)
        return "t=\(seconds),v1=" + mac.hexString
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
