import Foundation
import Logging
import SQLKit
import VisageCore
import VisageStore

/// A dataset's binding to `oss://bucket/prefix/`: the images there are indexed when the binding
/// is made, and later uploads, overwrites and deletions are followed.
public struct DatasetBinding: Sendable, Equatable {
    public let accountID: String
    public let project: String
    public let dataset: String
    public let uri: String
    public let bucket: String
    public let prefix: String
    /// The last object change the binding has acted on.
    public let cursor: Int64
    public let created: Date
    public let updated: Date
    /// FullScanning while the objects present at creation are being indexed, then IncrementalScanning.
    public var phase = "IncrementalScanning"
}

/// Bindings in the metadata store, and the following of the object stores' change feed.
public struct DatasetBindings: Sendable {
    let store: MetadataStore
    let objects: any ObjectStore
    let datasets: DatasetCatalog
    let indexing: MediaIndexing

    public init(store: MetadataStore, objects: any ObjectStore, indexing: MediaIndexing) {
        self.store = store
        self.objects = objects
        self.datasets = DatasetCatalog(store: store)
        self.indexing = indexing
    }

    /// Keys with these extensions are indexed; other objects in a bound bucket are left alone.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif"]

    static func isImage(_ key: String) -> Bool {
        guard let dot = key.lastIndex(of: "."), !key[dot...].contains("/") else { return false }
        return imageExtensions.contains(key[key.index(after: dot)...].lowercased())
    }

    /// `oss://bucket` or `oss://bucket/prefix/` split; the prefix, when given, ends with `/`.
    static func parse(_ uri: String) throws -> (bucket: BucketName, prefix: String) {
        guard uri.hasPrefix("oss://") else { throw VisageError.invalidArgument(field: "URI", message: "must be oss://bucket or oss://bucket/prefix/") }
        let rest = uri.dropFirst("oss://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let prefix = parts.count == 2 ? parts[1] : ""
        guard prefix.isEmpty || prefix.hasSuffix("/") else {
            throw VisageError.invalidArgument(field: "URI", message: "a prefix must end with /")
        }
        return (try BucketName(parts[0]), prefix)
    }

    /// Makes the binding and queues the indexing of the images already there.
    public func create(account: String, project: String, dataset name: String, uri: String, requestID: String) async throws
        -> DatasetBinding
    {
        let dataset = try await datasets.dataset(account: account, project: project, name: name)
        let (bucket, prefix) = try Self.parse(uri)
        guard try await objects.bucket(bucket).ownerAccount == account else {
            throw VisageError.forbidden(message: "The bucket \(bucket.value) belongs to another account.")
        }
        let now = WallClock.nowMillis()
        try await store.withTransaction { db in
            let existing = try await db.raw("""
                SELECT uri FROM media_bindings WHERE account_id = \(bind: account) AND project = \(bind: project) AND dataset = \(bind: name)
                """).all().map { try $0.decode(column: "uri", as: String.self) }
            if existing.contains(uri) { throw VisageError.conflict(kind: .binding, name: uri, message: "The binding \(uri) already exists.") }
            guard existing.count < dataset.maxBindCount else {
                throw VisageError.invalidArgument(field: "URI", message: "the dataset already has \(existing.count) bindings, its limit")
            }
            // Changes after this point are followed; objects already there are listed below.
            let cursor = try await ObjectChangeFeed.latest(db: db)
            try await db.raw("""
                INSERT INTO media_bindings (account_id, project, dataset, uri, bucket, prefix, change_cursor, created_at, updated_at)
                VALUES (\(bind: account), \(bind: project), \(bind: name), \(bind: uri), \(bind: bucket.value), \(bind: prefix),
                        \(bind: cursor), \(bind: now), \(bind: now))
                """).run()
        }
        var after = ""
        while true {
            let page = try await objects.listObjects(bucket: bucket, ObjectListRequest(prefix: prefix, startAfter: after, maxKeys: 1000))
            let files = page.objects.map(\.key).filter(Self.isImage).map { InputFile(uri: "oss://\(bucket.value)/\($0)") }
            for start in stride(from: 0, to: files.count, by: 100) {
                try await store.withTransaction { db in
                    _ = try await indexing.submit(binding(account, project, name, uri, files: Array(files[start..<min(files.count, start + 100)]),
                                                          type: "BindingScan", requestID: requestID), db: db)
                }
            }
            guard page.isTruncated, let last = page.objects.last?.key else { break }
            after = last
        }
        return try await self.binding(account: account, project: project, dataset: name, uri: uri)
    }

    private func binding(_ account: String, _ project: String, _ dataset: String, _ uri: String, files: [InputFile], type: String,
                         requestID: String) -> MediaIndexing.Submission {
        .init(account: account, project: project, dataset: dataset, files: files, notification: nil, userData: uri,
              requestID: requestID, requestDefinition: "{}", type: type)
    }

    public func binding(account: String, project: String, dataset: String, uri: String) async throws -> DatasetBinding {
        guard let found = try await bindings(account: account, project: project, dataset: dataset).first(where: { $0.uri == uri }) else {
            throw VisageError.notFound(kind: .binding, name: uri)
        }
        return found
    }

    public func bindings(account: String, project: String, dataset: String) async throws -> [DatasetBinding] {
        _ = try await datasets.dataset(account: account, project: project, name: dataset)
        return try await store.withConnection { db in
            var found: [DatasetBinding] = []
            for row in try await db.raw("""
                SELECT * FROM media_bindings WHERE account_id = \(bind: account) AND project = \(bind: project) AND dataset = \(bind: dataset)
                ORDER BY uri
                """).all() {
                var binding = try Self.binding(row)
                let scanning = try await db.raw("""
                    SELECT 1 FROM media_tasks WHERE account_id = \(bind: account) AND project = \(bind: project)
                      AND dataset = \(bind: dataset) AND task_type = 'BindingScan' AND user_data = \(bind: binding.uri)
                      AND status = 'Running' LIMIT 1
                    """).first()
                binding.phase = scanning == nil ? "IncrementalScanning" : "FullScanning"
                found.append(binding)
            }
            return found
        }
    }

    public func delete(account: String, project: String, dataset: String, uri: String) async throws {
        _ = try await binding(account: account, project: project, dataset: dataset, uri: uri)
        try await store.withConnection { db in
            try await db.raw("""
                DELETE FROM media_bindings WHERE account_id = \(bind: account) AND project = \(bind: project)
                  AND dataset = \(bind: dataset) AND uri = \(bind: uri)
                """).run()
        }
    }

    /// Acts on the object changes every binding has not seen yet: deleted images leave the
    /// dataset at once; new and overwritten ones are queued for indexing. Each binding's cursor
    /// moves in the transaction that acts, so a crash repeats nothing and loses nothing.
    /// Returns the number of changes acted on.
    @discardableResult
    public func follow(batch: Int = 500) async throws -> Int {
        let all = try await store.withConnection { db in try await db.raw("SELECT * FROM media_bindings").all().map(Self.binding) }
        var acted = 0
        let lock: SQLQueryString = store.kind == .postgres ? "FOR UPDATE" : ""
        for binding in all {
            acted += try await store.withTransaction { [indexing, store] db in
                // Re-read under lock: another process may have moved the cursor meanwhile.
                guard let row = try await db.raw("""
                    SELECT change_cursor FROM media_bindings WHERE account_id = \(bind: binding.accountID) AND project = \(bind: binding.project)
                      AND dataset = \(bind: binding.dataset) AND uri = \(bind: binding.uri) \(lock)
                    """).first() else { return 0 }
                let cursor = try row.decode(column: "change_cursor", as: Int64.self)
                // Changes a second old or more, whose sequence numbers can no longer be overtaken.
                let changes = try await ObjectChangeFeed.changes(bucket: binding.bucket, after: cursor,
                                                                 settledBefore: WallClock.nowMillis() - 1000, limit: batch, db: db)
                guard let last = changes.last?.sequence else { return 0 }
                // The last change of each key decides.
                var latest: [String: ObjectChange.Kind] = [:]
                var order: [String] = []
                for change in changes {
                    guard change.key.hasPrefix(binding.prefix), Self.isImage(change.key) else { continue }
                    if latest[change.key] == nil { order.append(change.key) }
                    latest[change.key] = change.kind
                }
                let key = DatasetKey(accountID: binding.accountID, project: binding.project, dataset: binding.dataset)
                var puts: [InputFile] = []
                for objectKey in order {
                    let uri = "oss://\(binding.bucket)/\(objectKey)"
                    if latest[objectKey] == .delete {
                        try await FileIndex(store: store).remove(id: FileIndex.objectID(key, uri: uri), dataset: key, db: db)
                    } else {
                        puts.append(InputFile(uri: uri))
                    }
                }
                for start in stride(from: 0, to: puts.count, by: 100) {
                    _ = try await indexing.submit(self.binding(binding.accountID, binding.project, binding.dataset, binding.uri,
                                                               files: Array(puts[start..<min(puts.count, start + 100)]),
                                                               type: "BindingIndex", requestID: Identifiers.requestID()), db: db)
                }
                try await db.raw("""
                    UPDATE media_bindings SET change_cursor = \(bind: last), updated_at = \(bind: WallClock.nowMillis())
                    WHERE account_id = \(bind: binding.accountID) AND project = \(bind: binding.project)
                      AND dataset = \(bind: binding.dataset) AND uri = \(bind: binding.uri)
                    """).run()
                return changes.count
            }
        }
        return acted
    }

    /// Forgets the changes every binding has passed (all of them when there are none).
    public func prune() async throws {
        // One statement, so a binding made meanwhile cannot lose the changes after its cursor.
        try await store.withConnection { db in
            try await ObjectChangeFeed.prune(upTo: "SELECT MIN(change_cursor) FROM media_bindings", db: db)
        }
    }

    /// Follows changes until cancelled, pruning the change log about once a minute.
    public func run(every interval: Duration = .milliseconds(500), logger: Logger) async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            do {
                if ContinuousClock.now - lastPrune > .seconds(60) {
                    try await prune()
                    lastPrune = .now
                }
                if try await follow() == 0 { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("following object changes failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: interval * 4)
            }
        }
    }

    static func binding(_ row: any SQLRow) throws -> DatasetBinding {
        DatasetBinding(
            accountID: try row.decode(column: "account_id", as: String.self), project: try row.decode(column: "project", as: String.self),
            dataset: try row.decode(column: "dataset", as: String.self), uri: try row.decode(column: "uri", as: String.self),
            bucket: try row.decode(column: "bucket", as: String.self), prefix: try row.decode(column: "prefix", as: String.self),
            cursor: try row.decode(column: "change_cursor", as: Int64.self),
            created: WallClock.date(millis: try row.decode(column: "created_at", as: Int64.self)),
            updated: WallClock.date(millis: try row.decode(column: "updated_at", as: Int64.self)))
    }
}
