import Testing
import VisageCore
import VisageJobs
@testable import VisageServer
import VisageTestSupport

@Suite("IMM notification parameters")
struct IMMNotificationTests {
    @Test("Notification is read strictly: HTTP endpoints on public addresses, MNS and RocketMQ topics, nothing else")
    func parsing() async throws {
        try await TestEngine.sqlite.withFreshStore { store, _ in
            let outbox = NotificationOutbox(store: store, settings: NotificationSettings(topics: ["t1": "https://example.com/t1"]))
            let mapped = try await IMMNotification.target(parsing: #"{"MNS":{"TopicName":"t1"}}"#, outbox: outbox)
            let unmapped = try await IMMNotification.target(parsing: #"{"RocketMQ":{"TopicName":"other"}}"#, outbox: outbox)
            #expect(mapped.url == "https://example.com/t1" && unmapped.url == nil && unmapped.name == "RocketMQ topic other")
            for bad in [#"{"SMS":{}}"#, #"{"HTTP":{"Endpoint":"ftp://x"}}"#, #"{"HTTP":{"Endpoint":"http://127.0.0.1/h"}}"#,
                        #"{"HTTP":{"Endpoint":"http://[::1]/h"}}"#, #"{"HTTP":{"Endpoint":"http://169.254.169.254/latest"}}"#,
                        #"{"MNS":{}}"#, "[]", "{"] {
                await #expect(throws: VisageError.self, "\(bad)") { try await IMMNotification.target(parsing: bad, outbox: outbox) }
            }
        }
    }
}
