import Crypto
import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A file's metadata document and the faces found in it, ready to be written.
public struct IndexedFile: Sendable {
    public let uri: String
    public let size: Int64
    /// The FileMeta document (IMM field names).
    public var document: [String: JSONValue]
    public let faces: [IndexedFace]

    public init(uri: String, size: Int64, document: [String: JSONValue], faces: [IndexedFace]) {
        self.uri = uri
        self.size = size
        self.document = document
        self.faces = faces
    }
}

/// A face of an indexed file, kept for clustering and face search.
public struct IndexedFace: Sendable {
    public let figureID: String
    public let embedding: [Float]
    /// Whether the face passes the bar for founding a person (`Figure.isHighQuality`).
    public let highQuality: Bool
    /// FaceQuality, which picks a person's cover face.
    public let quality: Double
}

/// The file metadata of datasets: one JSON document per URI, plus a row per queryable value
/// (`media_file_fields`: dotted path, array element, text or number) that SimpleQuery filters,
/// sorts and aggregates on with ordinary indexes in either SQL engine.
public struct FileIndex: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Text values longer than this are kept in the document but not indexed (a PostgreSQL
    /// B-tree entry must stay under about 2.7 kB; EXIF text is the usual case).
    public static let maxIndexedText = 1024

    /// IMM's ObjectId: stable for a URI within a dataset (SHA-256 of both, hex).
    public static func objectID(_ dataset: DatasetKey, uri: String) -> String {
        SHA256.hash(data: Data("\(dataset)\n\(uri)".utf8)).hexString
    }

    /// Writes (or replaces) a file's document, fields and faces in `db`, keeping the original
    /// CreateTime and the user's CustomLabels/CustomId of an earlier version, and the ids and
    /// people of the faces found again where it had them (`FaceContinuity`).
    public func write(_ file: IndexedFile, dataset: DatasetKey, now: Int64, db: any SQLDatabase) async throws {
        let id = Self.objectID(dataset, uri: file.uri)
        let key = dataset.description
        // A dataset deleted while its files were being analysed gets none of them.
        guard try await db.raw("""
            SELECT 1 FROM media_datasets WHERE account_id = \(bind: dataset.accountID) AND project = \(bind: dataset.project)
              AND name = \(bind: dataset.dataset)
            """).first() != nil
        else { throw VisageError.notFound(kind: .dataset, name: dataset.dataset) }
        var document = file.document
        var created = now
        var earlier: [FaceContinuity.Earlier] = []
        if let row = try await db.raw("SELECT document, created_at FROM media_files WHERE id = \(bind: id)").first() {
            created = try row.decode(column: "created_at", as: Int64.self)
            let previous = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue ?? [:]
            for field in ["CustomLabels", "CustomId"] where document[field] == nil {
                document[field] = previous[field]
            }
            earlier = try await Self.earlierFaces(fileID: id, figures: previous["Figures"]?.arrayValue ?? [], db: db)
        }
        // New face id → the earlier face it continues.
        var carried: [String: FaceContinuity.Earlier] = [:]
        if !earlier.isEmpty, var figures = document["Figures"]?.arrayValue {
            for (position, face) in FaceContinuity.match(figures.map(FaceContinuity.Box.init(figure:)), earlier: earlier) {
                guard var fields = figures[position].objectValue, let newID = fields["FigureId"]?.stringValue else { continue }
                fields["FigureId"] = .string(face.figureID)
                fields["FigureClusterId"] = face.cluster.map(JSONValue.string)
                figures[position] = .object(fields)
                carried[newID] = face
            }
            document["Figures"] = .array(figures)
        }
        document["ObjectId"] = .string(id)
        document["ObjectType"] = .string("file")
        document["CreateTime"] = .string(MediaTime.text(millis: created))
        document["UpdateTime"] = .string(MediaTime.text(millis: now))
        let people = try await Self.removeRows(id: id, db: db)
        try await db.raw("""
            INSERT INTO media_files (id, dataset_key, uri, size, document, created_at, updated_at)
            VALUES (\(bind: id), \(bind: key), \(bind: file.uri), \(bind: file.size), \(bind: JSONValue.object(document).text),
                    \(bind: created), \(bind: now))
            """).run()
        try await Self.insertFields(of: document, id: id, key: key, db: db)
        for face in file.faces {
            let bytes = face.embedding.withUnsafeBufferPointer { Data(buffer: $0) }
            let kept = carried[face.figureID]
            try await db.raw("""
                INSERT INTO media_faces (figure_id, dataset_key, file_id, embedding, quality_ok, quality, cluster_id, pinned)
                VALUES (\(bind: kept?.figureID ?? face.figureID), \(bind: key), \(bind: id), \(bind: bytes),
                        \(bind: face.highQuality ? 1 : 0), \(bind: face.quality), \(bind: kept?.cluster), \(bind: kept?.pinned == true ? 1 : 0))
                """).run()
        }
        // Counted after the faces are back, so a person whose faces all live in this file stays.
        try await FigureClusterStore(store: store).recount(dataset: dataset, clusters: people, db: db)
    }

    /// The faces of the stored version of a file, with their boxes from its `Figures`.
    static func earlierFaces(fileID: String, figures: [JSONValue], db: any SQLDatabase) async throws -> [FaceContinuity.Earlier] {
        var boxes: [String: FaceContinuity.Box] = [:]
        for figure in figures {
            if let figureID = figure.objectValue?["FigureId"]?.stringValue, let box = FaceContinuity.Box(figure: figure) {
                boxes[figureID] = box
            }
        }
        return try await db.raw("SELECT figure_id, cluster_id, pinned FROM media_faces WHERE file_id = \(bind: fileID) ORDER BY figure_id")
            .all().compactMap { row in
                let figureID = try row.decode(column: "figure_id", as: String.self)
                guard let box = boxes[figureID] else { return nil }
                return FaceContinuity.Earlier(figureID: figureID, box: box, cluster: try row.decode(column: "cluster_id", as: String?.self),
                                              pinned: try row.decode(column: "pinned", as: Int.self) != 0)
            }
    }

    /// The document of one file, or nil.
    public func document(dataset: DatasetKey, uri: String) async throws -> [String: JSONValue]? {
        try await documents(dataset: dataset, uris: [uri]).first
    }

    /// Documents of the URIs that are indexed, in the order asked.
    public func documents(dataset: DatasetKey, uris: [String]) async throws -> [[String: JSONValue]] {
        let ids = uris.map { Self.objectID(dataset, uri: $0) }
        guard !ids.isEmpty else { return [] }
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT id, document FROM media_files WHERE id IN (\(binds: ids))").all()
        }
        var byID: [String: [String: JSONValue]] = [:]
        for row in rows {
            byID[try row.decode(column: "id", as: String.self)] =
                JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue
        }
        return ids.compactMap { byID[$0] }
    }

    /// Replaces the user-editable fields (CustomLabels, CustomId) of an indexed file.
    public func update(dataset: DatasetKey, uri: String, customLabels: [String: String]?, customID: String?) async throws {
        try await store.withTransaction { db in
            try await Self.update(dataset: dataset, uri: uri, customLabels: customLabels, customID: customID, db: db)
        }
    }

    /// Sets a file's custom labels and id, in the caller's transaction.
    static func update(dataset: DatasetKey, uri: String, customLabels: [String: String]?, customID: String?,
                       db: any SQLDatabase) async throws {
        let id = objectID(dataset, uri: uri)
        guard let row = try await db.raw("SELECT document FROM media_files WHERE id = \(bind: id)").first(),
              var document = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue
        else { throw VisageError.notFound(kind: .file, name: uri) }
        if let customLabels { document["CustomLabels"] = .object(customLabels.mapValues(JSONValue.string)) }
        if let customID { document["CustomId"] = .string(customID) }
        let now = WallClock.nowMillis()
        document["UpdateTime"] = .string(MediaTime.text(millis: now))
        try await db.raw("UPDATE media_files SET updated_at = \(bind: now) WHERE id = \(bind: id)").run()
        try await replaceDocument(id: id, key: dataset.description, document: document, db: db)
    }

    /// Replaces a stored document and its query fields, in the caller's transaction.
    static func replaceDocument(id: String, key: String, document: [String: JSONValue], db: any SQLDatabase) async throws {
        try await db.raw("UPDATE media_files SET document = \(bind: JSONValue.object(document).text) WHERE id = \(bind: id)").run()
        try await db.raw("DELETE FROM media_file_fields WHERE file_id = \(bind: id)").run()
        try await insertFields(of: document, id: id, key: key, db: db)
    }

    /// Removes a file with its fields and faces; false when it was not indexed.
    @discardableResult
    public func delete(dataset: DatasetKey, uri: String) async throws -> Bool {
        let id = Self.objectID(dataset, uri: uri)
        return try await store.withTransaction { db in
            guard try await db.raw("SELECT 1 FROM media_files WHERE id = \(bind: id)").first() != nil else { return false }
            try await remove(id: id, dataset: dataset, db: db)
            return true
        }
    }

    /// Removes a file with its fields and faces in the caller's transaction; the people that
    /// lose faces are counted again (and go when none is left).
    func remove(id: String, dataset: DatasetKey, db: any SQLDatabase) async throws {
        let people = try await Self.removeRows(id: id, db: db)
        try await FigureClusterStore(store: store).recount(dataset: dataset, clusters: people, db: db)
    }

    /// Deletes a file's rows; returns the people its faces were in.
    private static func removeRows(id: String, db: any SQLDatabase) async throws -> [String] {
        let people = try await db.raw("SELECT DISTINCT cluster_id FROM media_faces WHERE file_id = \(bind: id) AND cluster_id IS NOT NULL")
            .all().map { try $0.decode(column: "cluster_id", as: String.self) }
        try await db.raw("DELETE FROM media_file_fields WHERE file_id = \(bind: id)").run()
        try await db.raw("DELETE FROM media_faces WHERE file_id = \(bind: id)").run()
        try await db.raw("DELETE FROM media_files WHERE id = \(bind: id)").run()
        return people
    }

    private static func insertFields(of document: [String: JSONValue], id: String, key: String, db: any SQLDatabase) async throws {
        let rows = Self.fields(of: document)
        // Batched multi-row inserts: one statement per 100 values instead of one per value.
        for start in stride(from: 0, to: rows.count, by: 100) {
            let chunk = rows[start..<min(rows.count, start + 100)]
            var sql: SQLQueryString = "INSERT INTO media_file_fields (file_id, dataset_key, path, element, text_value, number_value) VALUES "
            for (offset, field) in chunk.enumerated() {
                if offset > 0 { sql = sql + ", " }
                sql = sql + "(\(bind: id), \(bind: key), \(bind: field.path), \(bind: field.element), \(bind: field.text), \(bind: field.number))"
            }
            try await db.raw(sql).run()
        }
    }

    /// One queryable value of a document.
    struct Field: Equatable {
        let path: String
        /// The index in the outermost array the value sits in, or -1 outside arrays.
        let element: Int
        let text: String?
        let number: Double?
    }

    /// Every scalar of the document by dotted path; the elements of arrays share their path
    /// and are told apart by `element`, so `nested` queries can ask for one element.
    static func fields(of document: [String: JSONValue]) -> [Field] {
        var fields: [Field] = []
        func walk(_ value: JSONValue, path: String, element: Int) {
            switch value {
            case .null: return
            case let .bool(flag): fields.append(Field(path: path, element: element, text: flag ? "true" : "false", number: nil))
            case let .number(number): fields.append(Field(path: path, element: element, text: nil, number: number))
            case let .string(text):
                if text.utf8.count <= maxIndexedText { fields.append(Field(path: path, element: element, text: text, number: nil)) }
            case let .array(items):
                for (index, item) in items.enumerated() { walk(item, path: path, element: element >= 0 ? element : index) }
            case let .object(members):
                for (name, member) in members { walk(member, path: path.isEmpty ? name : "\(path).\(name)", element: element) }
            }
        }
        walk(.object(document), path: "", element: -1)
        return fields
    }
}

/// Times as the media API writes them: RFC 3339 in UTC with milliseconds.
public enum MediaTime {
    public static func text(millis: Int64) -> String {
        text(WallClock.date(millis: millis))
    }

    /// An RFC 3339 time with or without fractional seconds, or nil.
    public static func parse(_ text: String) -> Date? {
        guard DateText.parseable(text) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    public static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// What a user sets on a file besides what indexing found: custom labels and a custom id
/// (nil leaves each as it is).
public struct FileLabels: Sendable {
    public var customLabels: [String: String]?
    public var customID: String?

    public init(customLabels: [String: String]?, customID: String?) {
        self.customLabels = customLabels
        self.customID = customID
    }
}
