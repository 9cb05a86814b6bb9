import ArgumentParser
import Crypto
import Foundation
import VisageCore
import VisageJobs

/// `visage events`: the notifications Visage has sent or is still trying to send.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List task notifications: where each went, how many attempts, and why the last one failed.",
        discussion: """
            Each delivery is signed: the X-Visage-Signature header is t=UNIX_SECONDS,v1=HEX, HEX being \
            HMAC-SHA256 of "UNIX_SECONDS.BODY" with the key --signing-key prints.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "How many of the newest to list.") var limit = 50
    @Option(help: "Print one event's message body.") var show: String?
    @Flag(name: .customLong("signing-key"), help: "Print the key (hex) receivers check signatures with.") var signingKey = false

    func run() async throws {
        try await data.withDataDirectory { opened in
            if signingKey {
                let key = opened.box.derivedKey(purpose: NotificationSignature.purpose)
                print(key.withUnsafeBytes { $0.hexString })
                return
            }
            let outbox = NotificationOutbox(store: opened.store, settings: NotificationSettings())
            let events = try await outbox.events(limit: show == nil ? limit : 10_000)
            if let show {
                guard let event = events.first(where: { $0.eventID == show }) else { throw ValidationError("no event \(show)") }
                print(event.body)
                return
            }
            let formatter = ISO8601DateFormatter()
            print(["EVENT", "TYPE", "TARGET", "STATUS", "ATTEMPTS", "CREATED", "NEXT/LAST ERROR"].joined(separator: "\t"))
            for event in events {
                let status = event.status == .succeeded ? "Delivered" : event.status == .queued ? "Retrying" : event.status.rawValue
                let next = event.status == .queued ? "next \(formatter.string(from: event.nextAttempt)) " : ""
                print([event.eventID, event.type, event.target.url ?? event.target.name, status, String(event.attempts),
                       formatter.string(from: event.created), next + (event.lastError ?? "")].joined(separator: "\t"))
            }
        }
    }
}
