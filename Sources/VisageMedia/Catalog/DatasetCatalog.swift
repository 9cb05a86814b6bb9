import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A dataset of a media project: the indexed files, their faces and the people found in them.
public struct MediaDataset: Sendable, Equatable {
    public let accountID: String
    public let project: String
    public let name: String
    public var description: String
    public var templateID: String
    public var maxBindCount: Int
    public var maxFileCount: Int64
    public var workflowParameters: String
    public let created: Date
    public var updated: Date
    /// Number of indexed files and their total size, when asked for.
    public var fileCount: Int64 = 0
    public var totalFileSize: Int64 = 0

    /// The one string that names the dataset in the file, face and field tables.
    public var key: DatasetKey { DatasetKey(accountID: accountID, project: project, dataset: name) }
}

/// Account, project and dataset names joined, as the per-dataset tables store them.
public struct DatasetKey: Sendable, Hashable, CustomStringConvertible {
    public let accountID: String
    public let project: String
    public let dataset: String

    public init(accountID: String, project: String, dataset: String) {
        self.accountID = accountID
        self.project = project
        self.dataset = dataset
    }

    // Project and dataset names cannot contain "/", so the joined form is unambiguous.
    public var description: String { "\(accountID)/\(project)/\(dataset)" }
}

/// Changes UpdateDataset may make; nil leaves a value as it is.
public struct DatasetChanges: Sendable {
    public var description: String?
    public var templateID: String?
    public var maxBindCount: Int?
    public var maxFileCount: Int64?
    public var workflowParameters: String?

    public init(description: String? = nil, templateID: String? = nil, maxBindCount: Int? = nil, maxFileCount: Int64? = nil,
                workflowParameters: String? = nil) {
        self.description = description
        self.templateID = templateID
        self.maxBindCount = maxBindCount
        self.maxFileCount = maxFileCount
        self.workflowParameters = workflowParameters
    }
}

/// Datasets per project in the metadata store.
public struct DatasetCatalog: Sendable {
    let store: MetadataStore
    let projects: ProjectCatalog

    public init(store: MetadataStore) {
        self.store = store
        self.projects = ProjectCatalog(store: store)
    }

    public static let defaultMaxBindCount = 10
    public static let defaultMaxFileCount: Int64 = 100_000_000

    public func create(account: String, project: String, name: String, changes: DatasetChanges) async throws -> MediaDataset {
        try ProjectCatalog.validate(name: name, field: "DatasetName")
        try Self.validate(changes)
        _ = try await projects.project(account: account, name: project)
        let now = WallClock.nowMillis()
        let dataset = MediaDataset(
            accountID: account, project: project, name: name, description: changes.description ?? "",
            templateID: changes.templateID ?? "Official:DefaultEmptyId", maxBindCount: changes.maxBindCount ?? Self.defaultMaxBindCount,
            maxFileCount: changes.maxFileCount ?? Self.defaultMaxFileCount, workflowParameters: changes.workflowParameters ?? "[]",
            created: WallClock.date(millis: now), updated: WallClock.date(millis: now))
        try await store.withTransaction { db in
            guard try await db.raw("""
                SELECT 1 FROM media_datasets WHERE account_id = \(bind: account) AND project = \(bind: project) AND name = \(bind: name)
                """).first() == nil
            else { throw VisageError.conflict(kind: .dataset, name: name, message: "The dataset \(name) already exists.") }
            try await db.raw("""
                INSERT INTO media_datasets (account_id, project, name, description, template_id, max_bind_count, max_file_count,
                                            workflow_parameters, created_at, updated_at)
                VALUES (\(bind: account), \(bind: project), \(bind: name), \(bind: dataset.description), \(bind: dataset.templateID),
                        \(bind: dataset.maxBindCount), \(bind: dataset.maxFileCount), \(bind: dataset.workflowParameters),
                        \(bind: now), \(bind: now))
                """).run()
        }
        return dataset
    }

    /// The dataset; with `statistics`, its file count and total size too.
    public func dataset(account: String, project: String, name: String, statistics: Bool = false) async throws -> MediaDataset {
        _ = try await projects.project(account: account, name: project)
        let row = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM media_datasets WHERE account_id = \(bind: account) AND project = \(bind: project) AND name = \(bind: name)
                """).first()
        }
        guard let row else { throw VisageError.notFound(kind: .dataset, name: name) }
        var dataset = try Self.dataset(row)
        if statistics {
            let key = dataset.key.description
            let totals = try await store.withConnection { db in
                try await db.raw("""
                    SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS total FROM media_files WHERE dataset_key = \(bind: key)
                    """).first()
            }
            dataset.fileCount = try totals?.decode(column: "n", as: Int64.self) ?? 0
            dataset.totalFileSize = try totals?.decode(column: "total", as: Int64.self) ?? 0
        }
        return dataset
    }

    /// Datasets whose names start with `prefix`, after `after`, at most `limit`.
    public func datasets(account: String, project: String, prefix: String = "", after: String = "", limit: Int = 100)
        async throws -> [MediaDataset]
    {
        _ = try await projects.project(account: account, name: project)
        return try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM media_datasets WHERE account_id = \(bind: account) AND project = \(bind: project)
                  AND name > \(bind: after) AND substr(name, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix)
                ORDER BY name LIMIT \(bind: limit)
                """).all()
        }.map(Self.dataset)
    }

    public func update(account: String, project: String, name: String, changes: DatasetChanges) async throws -> MediaDataset {
        try Self.validate(changes)
        var dataset = try await self.dataset(account: account, project: project, name: name)
        if let value = changes.description { dataset.description = value }
        if let value = changes.templateID { dataset.templateID = value }
        if let value = changes.maxBindCount { dataset.maxBindCount = value }
        if let value = changes.maxFileCount { dataset.maxFileCount = value }
        if let value = changes.workflowParameters { dataset.workflowParameters = value }
        let now = WallClock.nowMillis()
        dataset.updated = WallClock.date(millis: now)
        let updated = dataset
        try await store.withConnection { db in
            try await db.raw("""
                UPDATE media_datasets SET description = \(bind: updated.description), template_id = \(bind: updated.templateID),
                    max_bind_count = \(bind: updated.maxBindCount), max_file_count = \(bind: updated.maxFileCount),
                    workflow_parameters = \(bind: updated.workflowParameters), updated_at = \(bind: now)
                WHERE account_id = \(bind: account) AND project = \(bind: project) AND name = \(bind: name)
                """).run()
        }
        return updated
    }

    /// Deletes the dataset with its files, their fields and faces.
    public func delete(account: String, project: String, name: String) async throws {
        let key = try await dataset(account: account, project: project, name: name).key.description
        try await store.withTransaction { db in
            try await db.raw("DELETE FROM media_file_fields WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_faces WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_clusters WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_cluster_numbers WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_cluster_history WHERE dataset_key = \(bind: key)").run()
            try await db.raw("DELETE FROM media_files WHERE dataset_key = \(bind: key)").run()
            try await db.raw("""
                DELETE FROM media_bindings WHERE account_id = \(bind: account) AND project = \(bind: project) AND dataset = \(bind: name)
                """).run()
            try await db.raw("""
                DELETE FROM media_datasets WHERE account_id = \(bind: account) AND project = \(bind: project) AND name = \(bind: name)
                """).run()
        }
    }

    static func validate(_ changes: DatasetChanges) throws {
        if let count = changes.maxBindCount, !(1...10).contains(count) {
            throw VisageError.invalidArgument(field: "DatasetMaxBindCount", message: "must be from 1 to 10")
        }
        if let count = changes.maxFileCount, count < 1 {
            throw VisageError.invalidArgument(field: "DatasetMaxFileCount", message: "must be positive")
        }
        if let parameters = changes.workflowParameters {
            guard let data = parameters.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [Any] else {
                throw VisageError.invalidArgument(field: "WorkflowParameters", message: "must be a JSON list")
            }
        }
    }

    static func dataset(_ row: any SQLRow) throws -> MediaDataset {
        MediaDataset(
            accountID: try row.decode(column: "account_id", as: String.self), project: try row.decode(column: "project", as: String.self),
            name: try row.decode(column: "name", as: String.self), description: try row.decode(column: "description", as: String.self),
            templateID: try row.decode(column: "template_id", as: String.self),
            maxBindCount: try row.decode(column: "max_bind_count", as: Int.self),
            maxFileCount: try row.decode(column: "max_file_count", as: Int64.self),
            workflowParameters: try row.decode(column: "workflow_parameters", as: String.self),
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
