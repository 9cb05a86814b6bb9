import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageStore

/// IMM (Version 2020-09-30): projects and DetectImageFaces. Every operation authorizes
/// `imm:<Action>` on `acs:imm:REGION:ACCOUNT:project/NAME`. As in the cloud, source objects are
/// read by the project's service role, not the caller: the built-in `AliyunIMMDefaultRole` may
/// read the account's objects; a role of the account named instead needs `oss:GetObject`.
struct IMMOperations: Sendable {
    let projects: ProjectCatalog
    let identities: IdentityDirectory
    let faces: ImageFaces
    let objects: any ObjectStore
    let region: String
    static let version = "2020-09-30"

    func register(in router: inout RPCRouter) {
        let table: [(String, @Sendable (IMMOperations, RPCCall) async throws -> [String: any Sendable])] = [
            ("CreateProject", { try await $0.createProject($1) }),
            ("GetProject", { try await $0.getProject($1) }),
            ("ListProjects", { try await $0.listProjects($1) }),
            ("DeleteProject", { try await $0.deleteProject($1) }),
            ("DetectImageFaces", { try await $0.detectImageFaces($1) }),
        ]
        router.register(version: Self.version, self, table, errors: Self.wireError)
    }

    func createProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "CreateProject", project: name)
        let project = try await projects.create(account: call.caller.accountID, name: name, description: call.optional("Description"),
                                                serviceRole: call.optional("ServiceRole"), templateID: call.optional("TemplateId"))
        return ["Project": Self.project(project)]
    }

    func getProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "GetProject", project: name)
        return ["Project": Self.project(try await projects.project(account: call.caller.accountID, name: name))]
    }

    func listProjects(_ call: RPCCall) async throws -> [String: any Sendable] {
        try authorize(call, "ListProjects", project: "*")
        let limit = try call.integer("MaxResults") ?? 100
        guard (1...200).contains(limit) else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "MaxResults must be from 1 to 200.")
        }
        let page = try await projects.projects(account: call.caller.accountID, prefix: call.optional("Prefix") ?? "",
                                               after: call.optional("NextToken") ?? "", limit: limit + 1)
        var body: [String: any Sendable] = ["Projects": page.prefix(limit).map(Self.project)]
        if page.count > limit, let last = page.prefix(limit).last { body["NextToken"] = last.name }
        return body
    }

    func deleteProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "DeleteProject", project: name)
        try await projects.delete(account: call.caller.accountID, name: name)
        return [:]
    }

    /// The faces of one image in the caller's object store, in IMM's Figure shape.
    func detectImageFaces(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "DetectImageFaces", project: name)
        let project = try await projects.project(account: call.caller.accountID, name: name)
        let (bucket, key) = try Self.ossURI(try call.required("SourceURI"), field: "SourceURI")
        try await authorizeRead(project: project, bucket: bucket, key: key)
        let analysis = try await faces.detect(bucket: bucket, key: key)
        return ["Faces": analysis.faces.map { IMMFigure(figureID: UUID().uuidString.lowercased(), attributes: $0.attributes).wireObject }]
    }

    /// Whether the project's service role may read the object.
    func authorizeRead(project: MediaProject, bucket: BucketName, key: ObjectKey) async throws {
        let owner = try await objects.bucket(bucket).ownerAccount
        let denied = WireError(status: .forbidden, code: "NoPermission",
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
    static func ossURI(_ uri: String, field: String) throws -> (BucketName, ObjectKey) {
        guard uri.hasPrefix("oss://") else {
            throw VisageError.invalidArgument(field: field, message: "must be an oss://bucket/key URI")
        }
        let parts = uri.dropFirst("oss://".count).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw VisageError.invalidArgument(field: field, message: "must be an oss://bucket/key URI") }
        return (try BucketName(parts[0]), try ObjectKey(parts[1]))
    }

    func authorize(_ call: RPCCall, _ action: String, project: String) throws {
        try call.authorize("imm:\(action)", resource: "acs:imm:\(region):\(call.caller.accountID):project/\(project)")
    }

    static func project(_ project: MediaProject) -> [String: any Sendable] {
        ["ProjectName": project.name, "Description": project.description, "ServiceRole": project.serviceRole,
         "TemplateId": project.templateID, "CreateTime": time(project.created), "UpdateTime": time(project.updated)]
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// IMM's error codes (its documentation gives 400 for missing and existing resources).
    static func wireError(_ error: VisageError) -> WireError {
        switch error {
        case let .notFound(kind, name):
            return WireError(status: .badRequest, code: "ResourceNotFound", message: "The specified resource \(kind) \(name) is not found.")
        case let .conflict(kind, name, _):
            return WireError(status: .badRequest, code: "ResourceAlreadyExists", message: "The specified resource \(kind) \(name) already exists.")
        case let .invalidArgument(field, message):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "\(field) \(message)")
        case let .tooLarge(field, limit):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "The \(field) is larger than \(limit) bytes.")
        default:
            return WireError(error)
        }
    }
}
