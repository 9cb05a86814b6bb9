import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A media project: the container of datasets and the unit media permissions name.
public struct MediaProject: Sendable, Equatable {
    public let accountID: String
    public let name: String
    public let description: String
    public let serviceRole: String
    public let templateID: String
    public let created: Date
    public let updated: Date

    /// The service role a project reads objects with unless it names another.
    public static let defaultServiceRole = "AliyunIMMDefaultRole"
}

/// Projects per account in the metadata store.
public struct ProjectCatalog: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Names of 1–128 letters, digits, `-` and `_`, starting with a letter or `_`.
    public static func validate(name: String, field: String = "ProjectName") throws {
        let scalars = Array(name.unicodeScalars)
        let allowed = { (c: Unicode.Scalar) in c.isASCII && (CharacterSet.alphanumerics.contains(c) || c == "-" || c == "_") }
        guard (1...128).contains(scalars.count), scalars.allSatisfy(allowed),
              let first = scalars.first, first == "_" || CharacterSet.letters.contains(first)
        else {
            throw VisageError.invalidArgument(
                field: field, message: "must be 1 to 128 letters, digits, - or _, starting with a letter or _")
        }
    }

    public func create(account: String, name: String, description: String?, serviceRole: String?, templateID: String?)
        async throws -> MediaProject
    {
        try Self.validate(name: name)
        let now = WallClock.nowMillis()
        let project = MediaProject(accountID: account, name: name, description: description ?? "",
                                   serviceRole: serviceRole ?? MediaProject.defaultServiceRole, templateID: templateID ?? "",
                                   created: WallClock.date(millis: now), updated: WallClock.date(millis: now))
        try await store.withTransaction { db in
            guard try await db.raw("SELECT 1 FROM media_projects WHERE account_id = \(bind: account) AND name = \(bind: name)").first() == nil
            else { throw VisageError.conflict(kind: .project, name: name, message: "The project \(name) already exists.") }
            try await db.raw("""
                INSERT INTO media_projects (account_id, name, description, service_role, template_id, created_at, updated_at)
                VALUES (\(bind: account), \(bind: name), \(bind: project.description), \(bind: project.serviceRole),
                        \(bind: project.templateID), \(bind: now), \(bind: now))
                """).run()
        }
        return project
    }

    public func project(account: String, name: String) async throws -> MediaProject {
        let row = try await store.withConnection { db in
            try await db.raw("SELECT * FROM media_projects WHERE account_id = \(bind: account) AND name = \(bind: name)").first()
        }
        guard let row else { throw VisageError.notFound(kind: .project, name: name) }
        return try Self.project(row)
    }

    /// Projects whose names start with `prefix`, after `after`, at most `limit`.
    public func projects(account: String, prefix: String = "", after: String = "", limit: Int = 100) async throws -> [MediaProject] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM media_projects WHERE account_id = \(bind: account) AND name > \(bind: after)
                  AND substr(name, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix)
                ORDER BY name LIMIT \(bind: limit)
                """).all()
        }.map(Self.project)
    }

    /// Deletes an empty project; one that still has datasets is refused, so no dataset is left
    /// without its project (or found again by a new project of the same name).
    public func delete(account: String, name: String) async throws {
        _ = try await project(account: account, name: name)
        try await store.withTransaction { db in
            let count = try await db.raw("""
                SELECT COUNT(*) AS n FROM media_datasets WHERE account_id = \(bind: account) AND project = \(bind: name)
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            guard count == 0 else {
                throw VisageError.inUse(kind: .project, by: .dataset, name: name,
                                        message: "The project \(name) still has \(count) datasets; delete them first.")
            }
            try await db.raw("DELETE FROM media_projects WHERE account_id = \(bind: account) AND name = \(bind: name)").run()
        }
    }

    static func project(_ row: any SQLRow) throws -> MediaProject {
        MediaProject(accountID: try row.decode(column: "account_id", as: String.self), name: try row.decode(column: "name", as: String.self),
                     description: try row.decode(column: "description", as: String.self),
                     serviceRole: try row.decode(column: "service_role", as: String.self),
                     templateID: try row.decode(column: "template_id", as: String.self),
                     created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
                     updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
