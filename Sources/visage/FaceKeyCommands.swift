import ArgumentParser
import Foundation
import VisageAccess
import VisageServer

/// `visage face-keys ...`: subscription keys of the Face API (`Ocp-Apim-Subscription-Key`),
/// each bound to the root account or to a RAM user whose policies govern it.
struct FaceKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "face-keys",
        abstract: "Create, list, disable and delete Face API subscription keys (bound to the account or a user).",
        subcommands: [Create.self, List.self, Status<Disabling>.self, Status<Enabling>.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed only now.")
        @OptionGroup var data: DataOptions
        @Option(help: "The RAM user the key acts as (default: the root account).") var user: String?

        func run() async throws {
            let (key, text) = try await data.withDataDirectory(creating: true) { opened in
                let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
                return try await APIKeyDirectory(store: opened.store, box: opened.box, identities: identities)
                    .create(account: opened.root.credentials.AccountId, principal: user.map { "user/\($0)" } ?? "root",
                            service: VisageServer.faceAPIKeyService)
            }
            print("KeyId:           \(key.id)\nSubscriptionKey: \(text)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List keys: id, principal, status.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let keys = try await data.withKeys { keys, account in try await keys.keys(account: account, service: VisageServer.faceAPIKeyService) }
            for key in keys { print("\(key.id)\t\(key.principal)\t\(key.status.rawValue)") }
        }
    }

    /// Which way `Status` turns a key.
    protocol Change { static var name: String { get }; static var status: AccessKey.Status { get } }
    enum Disabling: Change { static let name = "disable"; static let status = AccessKey.Status.inactive }
    enum Enabling: Change { static let name = "enable"; static let status = AccessKey.Status.active }

    struct Status<C: Change>: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: C.name, abstract: C.status == .inactive ? "Disable a key (its requests are refused)." : "Enable a disabled key.")
        }
        @OptionGroup var data: DataOptions
        @Argument(help: "The key id (from ls).") var keyID: String

        func run() async throws {
            try await data.withKeys { keys, account in try await keys.setStatus(account: account, id: keyID, status: C.status) }
            print("\(keyID)\t\(C.status.rawValue)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a key.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The key id (from ls).") var keyID: String

        func run() async throws {
            try await data.withKeys { keys, account in try await keys.delete(account: account, id: keyID) }
        }
    }
}

extension DataOptions {
    func withKeys<T: Sendable>(_ body: (APIKeyDirectory, _ accountID: String) async throws -> T) async throws -> T {
        try await withDataDirectory { opened in
            let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
            return try await body(APIKeyDirectory(store: opened.store, box: opened.box, identities: identities), opened.root.credentials.AccountId)
        }
    }
}
