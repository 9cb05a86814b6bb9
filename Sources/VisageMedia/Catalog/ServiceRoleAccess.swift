import Foundation
import VisageAccess
import VisageCore
import VisageStore

/// Whether a project may read an object. As in the cloud, a media project reads source objects
/// with its service role, not with the caller's permissions: the built-in
/// `AliyunIMMDefaultRole` may read the account's objects; a role of the account named instead
/// needs `oss:GetObject` on the object.
public struct ServiceRoleAccess: Sendable {
    let identities: IdentityDirectory
    let objects: any ObjectStore

    public init(identities: IdentityDirectory, objects: any ObjectStore) {
        self.identities = identities
        self.objects = objects
    }

    /// Throws `VisageError.forbidden` unless the project's service role may read the object.
    public func authorizeRead(project: MediaProject, bucket: BucketName, key: ObjectKey) async throws {
        let owner = try await objects.bucket(bucket).ownerAccount
        let denied = VisageError.forbidden(
            message: "The service role \(project.serviceRole) of project \(project.name) may not read oss://\(bucket.value)/\(key.value).")
        guard owner == project.accountID else { throw denied }
        let role: RAMRole
        do {
            role = try await identities.role(account: project.accountID, name: project.serviceRole)
        } catch VisageError.notFound where project.serviceRole == MediaProject.defaultServiceRole {
            return
        }
        let policies = try await identities.permissions(account: project.accountID, of: .role, name: role.name)
        let request = AccessRequest(action: "oss:GetObject", resource: "acs:oss:*:\(owner):\(bucket.value)/\(key.value)")
        guard PolicyDocument.evaluate(policies, request) == .allow else { throw denied }
    }

    /// `oss://bucket/key` split into a checked bucket name and key.
    public static func ossURI(_ uri: String, field: String) throws -> (BucketName, ObjectKey) {
        guard uri.hasPrefix("oss://") else {
            throw VisageError.invalidArgument(field: field, message: "must be an oss://bucket/key URI")
        }
        let parts = uri.dropFirst("oss://".count).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw VisageError.invalidArgument(field: field, message: "must be an oss://bucket/key URI") }
        return (try BucketName(parts[0]), try ObjectKey(parts[1]))
    }
}
