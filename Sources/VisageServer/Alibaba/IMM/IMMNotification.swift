import VisageCore
import VisageJobs

/// IMM's `Notification` parameter: `{"HTTP":{"Endpoint":URL}}`, or an MNS or RocketMQ topic
/// (delivered to the webhook configured for that topic name).
enum IMMNotification {
    /// The target a request names; refuses malformed values, unknown fields and webhooks on
    /// private networks.
    static func target(parsing text: String, field: String = "Notification", outbox: NotificationOutbox) async throws
        -> NotificationTarget
    {
        guard let object = JSONValue(parsing: text)?.objectValue else {
            throw VisageError.invalidArgument(field: field, message: "must be a JSON object")
        }
        let known: Set<String> = ["HTTP", "MNS", "RocketMQ", "ExtendedMessageURI"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw VisageError.invalidArgument(field: "\(field).\(unknown)", message: "is not a notification type Visage knows")
        }
        if let http = object["HTTP"] {
            guard let endpoint = http["Endpoint"]?.stringValue else {
                throw VisageError.invalidArgument(field: "\(field).HTTP.Endpoint", message: "must be an http:// or https:// URL")
            }
            return try await outbox.webhook(endpoint, field: "\(field).HTTP.Endpoint")
        }
        for kind in ["MNS", "RocketMQ"] {
            if let queueTarget = object[kind] {
                guard let topic = queueTarget["TopicName"]?.stringValue, !topic.isEmpty else {
                    throw VisageError.invalidArgument(field: "\(field).\(kind).TopicName", message: "is required")
                }
                return outbox.topic(topic, kind: kind)
            }
        }
        throw VisageError.invalidArgument(field: field, message: "names no HTTP endpoint or topic")
    }

    /// The target of a call's optional `Notification` parameter.
    static func target(of call: RPCCall, outbox: NotificationOutbox) async throws -> NotificationTarget? {
        guard let text = call.optional("Notification") else { return nil }
        return try await target(parsing: text, outbox: outbox)
    }
}
