import ArgumentParser
import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageServer
import VisageStore

/// `visage upload-setup`: everything the web UI's Upload page needs, in one step and safe to run
/// again: the bucket, the media project, a RAM user with an access key allowed to assume roles,
/// a role the account trusts with the two narrow policies the page's calls need (PutObject under
/// `uploads/` of the bucket, DetectImageFaces in the project), and the page's settings saved in
/// the data directory, where `visage serve` reads them when no VISAGE_UPLOAD_* variable is set.
struct UploadSetup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload-setup",
        abstract: "Set up the web UI's Upload page: bucket, project, user, role and policies (run it again at will).")

    @OptionGroup var data: DataOptions
    @Option(help: "Bucket the page uploads into.") var bucket = UploadSettings().bucket
    @Option(help: "Media project the page finds faces in.") var project = UploadSettings().project
    @Option(help: "RAM user that asks for the browser's temporary credentials.") var user = "visage-upload"
    @Option(help: "Role the user assumes for the browser.") var role = "visage-upload"

    func run() async throws {
        let layout = try data.configuration.layout
        let saved = try await data.withDataDirectory(creating: true) { opened -> UploadSettings.Saved in
            let account = opened.root.credentials.AccountId
            try await opened.ensure(bucket: try BucketName(bucket), project: project, description: "Photos from the Upload page")
            let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
            if (try? await identities.user(account: account, name: user)) == nil {
                _ = try await identities.createUser(account: account, name: user, displayName: "Upload page", comments: nil)
            }
            let keys = try await identities.keys.keys(accountID: account, principal: "user/\(user)")
            if !keys.contains(where: { $0.status == .active }) {
                _ = try await identities.createAccessKey(account: account, userName: user)
            }
            try await Self.attach(identities, account: account, policy: "AliyunSTSAssumeRoleAccess", kind: .system, to: .user, named: user)
            if (try? await identities.role(account: account, name: role)) == nil {
                let trust = JSONValue.object(["Version": .string("1"), "Statement": .array([.object([
                    "Effect": .string("Allow"), "Action": .string("sts:AssumeRole"),
                    "Principal": .object(["RAM": .array([.string("acs:ram::\(account):root")])]),
                ])])]).text
                _ = try await identities.createRole(account: account, name: role, trustPolicy: trust,
                                                    description: "Assumed for the Upload page's browsers", maxSessionDuration: nil)
            }
            for (name, statement) in [
                ("\(role)-put-uploads", ["oss:PutObject", "acs:oss:*:*:\(bucket)/uploads/*"]),
                ("\(role)-detect-faces", ["imm:DetectImageFaces", "acs:imm:*:\(account):project/\(project)"]),
            ] {
                if (try? await identities.policy(account: account, name: name, kind: .custom)) == nil {
                    let document = JSONValue.object(["Version": .string("1"), "Statement": .array([.object([
                        "Effect": .string("Allow"), "Action": .string(statement[0]), "Resource": .string(statement[1]),
                    ])])]).text
                    _ = try await identities.createPolicy(account: account, name: name, document: document,
                                                          description: "What the Upload page's browsers may do")
                }
                try await Self.attach(identities, account: account, policy: name, kind: .custom, to: .role, named: role)
            }
            return UploadSettings.Saved(user: user, role: role, bucket: bucket, project: project)
        }
        try saved.write(to: layout)
        print("Upload page ready: user \(user) assumes role \(role) to put photos into oss://\(bucket)/uploads/ "
              + "and find faces in project \(project) (visage serve reads \(layout.uploadSettingsFile.lastPathComponent) when it starts)")
    }

    /// Attaches a policy unless it is attached already.
    static func attach(_ identities: IdentityDirectory, account: String, policy: String, kind: RAMPolicy.Kind, to principal: PrincipalKind,
                       named name: String) async throws {
        let attached = try await identities.attachedPolicies(account: account, to: principal, name: name)
        guard !attached.contains(where: { $0.policy.name == policy && $0.policy.kind == kind }) else { return }
        try await identities.attach(account: account, policy: policy, kind: kind, to: principal, named: name)
    }
}
