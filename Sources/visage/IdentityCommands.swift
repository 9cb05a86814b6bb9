import ArgumentParser
import Foundation
import VisageAccess
import VisageCore

/// `visage users ...`: RAM users of the root account, their access keys and policies.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete users and their access keys (policies: visage policies attach).",
        subcommands: [Create.self, ListNamed<UserNames>.self, DeleteNamed<UserNames>.self, CreateKey.self, ListKeys.self,
                      DeleteKey.self, KeyStatus<Disabling>.self, KeyStatus<Enabling>.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var data: DataOptions
        @Argument var name: String
        @Option(name: .customLong("display-name")) var displayName: String?

        func run() async throws {
            let user = try await data.withIdentities(creating: true) { identities, account in
                try await identities.createUser(account: account, name: name, displayName: displayName, comments: nil)
            }
            print("\(user.name)\t\(user.id)")
        }
    }

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-key", abstract: "Create an access key pair for a user; the secret is printed only now.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            let key = try await data.withIdentities { identities, account in
                try await identities.createAccessKey(account: account, userName: name)
            }
            print("AccessKeyId:     \(key.id)\nAccessKeySecret: \(key.secret)")
        }
    }

    struct ListKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keys", abstract: "List a user's access keys.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            let keys = try await data.withIdentities { identities, account in
                _ = try await identities.user(account: account, name: name)
                return try await identities.keys.keys(accountID: account, principal: "user/\(name)")
            }
            for key in keys { print("\(key.id)\t\(key.status.rawValue)") }
        }
    }

    /// Which way `KeyStatus` turns a key.
    protocol StatusChange { static var name: String { get }; static var status: AccessKey.Status { get } }
    enum Disabling: StatusChange { static let name = "disable-key"; static let status = AccessKey.Status.inactive }
    enum Enabling: StatusChange { static let name = "enable-key"; static let status = AccessKey.Status.active }

    /// `disable-key` / `enable-key`: a disabled key signs nothing, and the temporary credentials
    /// it obtained stop working until it is enabled again.
    struct KeyStatus<Change: StatusChange>: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: Change.name,
                                 abstract: Change.status == .inactive ? "Disable one of a user's access keys (its tokens stop working too)."
                                     : "Enable a disabled access key again.")
        }
        @OptionGroup var data: DataOptions
        @Argument var name: String
        @Argument var keyID: String

        func run() async throws {
            try await data.withIdentities { identities, account in
                try await identities.setAccessKeyStatus(account: account, userName: name, id: keyID, status: Change.status)
            }
            print("\(keyID)\t\(Change.status.rawValue)")
        }
    }

    struct DeleteKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm-key", abstract: "Delete one of a user's access keys.")
        @OptionGroup var data: DataOptions
        @Argument var name: String
        @Argument var keyID: String

        func run() async throws {
            try await data.withIdentities { identities, account in
                let key = try await identities.accessKey(account: account, userName: name, id: keyID)
                try await identities.keys.delete(id: key.id)
            }
        }
    }
}

/// A policy named on the command line: custom unless `--system`.
struct PolicyReference: ParsableArguments {
    @Option(name: .customLong("policy"), help: "Policy name.") var policyName: String
    @Flag(help: "The policy is a system policy (AdministratorAccess, AliyunOSSFullAccess, ...).") var system = false

    var kind: RAMPolicy.Kind { system ? .system : .custom }
}

/// `visage roles ...`: RAM roles of the root account.
struct Roles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete roles (policies: visage policies attach).",
        subcommands: [Create.self, ListNamed<RoleNames>.self, DeleteNamed<RoleNames>.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a role trusted by the whole account, or by the users named with --trust-user.")
        @OptionGroup var data: DataOptions
        @Argument var name: String
        @Option(name: .customLong("trust-user"), help: "A user allowed to assume the role (repeatable).") var trustedUsers: [String] = []
        @Option(name: .customLong("max-session"), help: "Longest session in seconds (3600-43200).") var maxSession = 3600

        func run() async throws {
            let role = try await data.withIdentities(creating: true) { identities, account in
                let principals = trustedUsers.isEmpty ? ["acs:ram::\(account):root"] : trustedUsers.map { "acs:ram::\(account):user/\($0)" }
                let trust = try JSONSerialization.data(withJSONObject: [
                    "Version": "1",
                    "Statement": [["Effect": "Allow", "Action": "sts:AssumeRole", "Principal": ["RAM": principals]]],
                ], options: [.sortedKeys, .withoutEscapingSlashes])
                return try await identities.createRole(account: account, name: name, trustPolicy: String(decoding: trust, as: UTF8.self),
                                                       description: nil, maxSessionDuration: maxSession)
            }
            print(role.arn)
        }
    }

}

/// `visage policies ...`: the account's custom policies, and the system ones.
struct Policies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, show, list and delete policies; attach them to users and roles.",
        subcommands: [Create.self, Show.self, List.self, Delete.self, Attachment<Attaching>.self, Attachment<Detaching>.self])

    /// The user or role an attachment is about.
    struct Principal: ParsableArguments {
        @Option(help: "A user.") var user: String?
        @Option(help: "A role.") var role: String?

        func validate() throws {
            guard (user == nil) != (role == nil) else { throw ValidationError("name exactly one of --user and --role") }
        }

        var target: (kind: PrincipalKind, name: String) { user.map { (.user, $0) } ?? (.role, role ?? "") }
    }

    /// `attach` and `detach`, one command in two directions.
    struct Attachment<Direction: AttachmentDirection>: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: Direction.attaches ? "attach" : "detach",
                                 abstract: Direction.attaches ? "Attach a policy to a user or a role." : "Detach a policy from a user or a role.")
        }
        @OptionGroup var data: DataOptions
        @OptionGroup var policy: PolicyReference
        @OptionGroup var principal: Principal

        func run() async throws {
            let (kind, name) = principal.target
            try await data.withIdentities { identities, account in
                if Direction.attaches {
                    try await identities.attach(account: account, policy: policy.policyName, kind: policy.kind, to: kind, named: name)
                } else {
                    try await identities.detach(account: account, policy: policy.policyName, kind: policy.kind, from: kind, named: name)
                }
            }
            print(Direction.attaches ? "attached \(policy.policyName) to \(kind) \(name)" : "detached \(policy.policyName) from \(kind) \(name)")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a custom policy from a JSON document (a file, or - for standard input).")
        @OptionGroup var data: DataOptions
        @Argument var name: String
        @Argument var document: String
        @Option var description: String?

        func run() async throws {
            let text = document == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                : String(decoding: try InputFiles.read(document), as: UTF8.self)
            _ = try await data.withIdentities(creating: true) { identities, account in
                try await identities.createPolicy(account: account, name: name, document: text, description: description)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a policy's document.")
        @OptionGroup var data: DataOptions
        @OptionGroup var policy: PolicyReference

        func run() async throws {
            let found = try await data.withIdentities { identities, account in
                try await identities.policy(account: account, name: policy.policyName, kind: policy.kind)
            }
            print(found.document)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List system and custom policies.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let policies = try await data.withIdentities { identities, account in try await identities.policies(account: account) }
            for policy in policies { print("\(policy.name)\t\(policy.kind.rawValue)\t\(policy.description)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a custom policy attached to no one.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            try await data.withIdentities { identities, account in try await identities.deletePolicy(account: account, name: name) }
        }
    }
}

/// Listing and deleting work alike for users and roles; each kind says how.
protocol NamedIdentities: Sendable {
    static var plural: String { get }
    static var deletable: String { get }
    static func lines(_ identities: IdentityDirectory, account: String) async throws -> [String]
    static func delete(_ identities: IdentityDirectory, account: String, name: String) async throws
}

enum UserNames: NamedIdentities {
    static let plural = "users"
    static let deletable = "a user without keys or policies"
    static func lines(_ identities: IdentityDirectory, account: String) async throws -> [String] {
        try await identities.users(account: account).map { "\($0.name)\t\($0.displayName)" }
    }
    static func delete(_ identities: IdentityDirectory, account: String, name: String) async throws {
        try await identities.deleteUser(account: account, name: name)
    }
}

enum RoleNames: NamedIdentities {
    static let plural = "roles with their ARNs"
    static let deletable = "a role without policies"
    static func lines(_ identities: IdentityDirectory, account: String) async throws -> [String] {
        try await identities.roles(account: account).map { "\($0.name)\t\($0.arn)" }
    }
    static func delete(_ identities: IdentityDirectory, account: String, name: String) async throws {
        try await identities.deleteRole(account: account, name: name)
    }
}

struct ListNamed<Kind: NamedIdentities>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "ls", abstract: "List \(Kind.plural).") }
    @OptionGroup var data: DataOptions

    func run() async throws {
        for line in try await data.withIdentities({ identities, account in try await Kind.lines(identities, account: account) }) {
            print(line)
        }
    }
}

struct DeleteNamed<Kind: NamedIdentities>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "rm", abstract: "Delete \(Kind.deletable).") }
    @OptionGroup var data: DataOptions
    @Argument var name: String

    func run() async throws {
        try await data.withIdentities { identities, account in try await Kind.delete(identities, account: account, name: name) }
    }
}

protocol AttachmentDirection: Sendable { static var attaches: Bool { get } }
enum Attaching: AttachmentDirection { static let attaches = true }
enum Detaching: AttachmentDirection { static let attaches = false }
