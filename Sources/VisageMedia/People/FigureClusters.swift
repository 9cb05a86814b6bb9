import Foundation
import SQLKit
import VisageCore
import VisageStore

/// A person: a group of faces of one dataset (IMM's figure cluster).
public struct FigureCluster: Sendable, Equatable {
    public let id: String
    public let number: Int64
    public var name: String
    public var customLabels: [String: String]
    public var coverFigureID: String?
    /// Whether a user chose the cover (a run then keeps it).
    public var coverPinned: Bool
    public var imageCount: Int
    public var faceCount: Int
    /// Bumped by every edit, so an edit made on a stale copy is refused.
    public var lockVersion: Int64
    public let created: Int64
    public var updated: Int64
}

/// Faces no person holds yet (IMM's reserved cluster ids).
public enum ReservedCluster {
    /// Considered by a run and placed nowhere; reconsidered by later runs.
    public static let independent = "figure-cluster-id-independent"
    /// Not clustered yet.
    public static let unavailable = "figure-cluster-id-unavailable"
}

/// How QueryFigureClusters narrows and orders people.
public struct ClusterListing: Sendable {
    public enum Sort: String, Sendable, CaseIterable {
        case createTime = "CreateTime", updateTime = "UpdateTime", imageCount = "ImageCount", faceCount = "FaceCount", name = "Name"
    }

    public var sort: Sort = .createTime
    public var descending = false
    public var createdRange: ClosedRange<Int64>?
    public var updatedRange: ClosedRange<Int64>?
    /// CustomLabels that must all match exactly.
    public var labels: [String: String] = [:]
    public var limit = 100
    public var offset = 0

    public init() {}
}

/// Changes UpdateFigureCluster may make; nil leaves a value as it is.
public struct ClusterChanges: Sendable {
    public var name: String?
    public var customLabels: [String: String]?
    public var coverFigureID: String?
    /// The MetaLockVersion the caller read; the edit is refused when the person changed since.
    public var lockVersion: Int64?

    public init(name: String? = nil, customLabels: [String: String]? = nil, coverFigureID: String? = nil, lockVersion: Int64? = nil) {
        self.name = name
        self.customLabels = customLabels
        self.coverFigureID = coverFigureID
        self.lockVersion = lockVersion
    }
}

/// The people of datasets and the edits users make to them. Every change to which person a face
/// belongs goes through here, so the face rows, the people's counts and covers, and the
/// `Figures[].FigureClusterId` of the file documents (what SimpleQuery reads) move together in
/// one transaction.
public struct FigureClusterStore: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    // MARK: Reading

    public func clusters(dataset: DatasetKey, _ listing: ClusterListing) async throws -> (clusters: [FigureCluster], total: Int) {
        var filter: SQLQueryString = "dataset_key = \(bind: dataset.description)"
        if let range = listing.createdRange {
            filter = filter + " AND created_at BETWEEN \(bind: range.lowerBound) AND \(bind: range.upperBound)"
        }
        if let range = listing.updatedRange {
            filter = filter + " AND updated_at BETWEEN \(bind: range.lowerBound) AND \(bind: range.upperBound)"
        }
        let column: String
        switch listing.sort {
        case .createTime: column = "created_at"
        case .updateTime: column = "updated_at"
        case .imageCount: column = "image_count"
        case .faceCount: column = "face_count"
        case .name: column = "name"
        }
        let direction = listing.descending ? "DESC" : "ASC"
        let where_ = filter
        // Label filters are applied after reading (labels are a small JSON object per person).
        let rows = try await store.withConnection { db in
            try await db.raw("SELECT * FROM media_clusters WHERE " + where_
                             + SQLQueryString(" ORDER BY \(column) \(direction), number \(direction)")).all()
        }
        let all = try rows.map(Self.cluster).filter { cluster in
            listing.labels.allSatisfy { cluster.customLabels[$0.key] == $0.value }
        }
        let page = Array(all.dropFirst(listing.offset).prefix(listing.limit))
        return (page, all.count)
    }

    public func cluster(dataset: DatasetKey, id: String) async throws -> FigureCluster {
        guard let cluster = try await clusters(dataset: dataset, ids: [id]).first else {
            throw VisageError.notFound(kind: .figureCluster, name: id)
        }
        return cluster
    }

    /// The people with these ids that exist, in the order asked.
    public func clusters(dataset: DatasetKey, ids: [String]) async throws -> [FigureCluster] {
        guard !ids.isEmpty else { return [] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT * FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id IN (\(binds: ids))
                """).all()
        }
        let byID = Dictionary(try rows.map(Self.cluster).map { ($0.id, $0) }) { first, _ in first }
        return ids.compactMap { byID[$0] }
    }

    /// The cover of each person: the file document holding its cover face, and that face.
    public func covers(dataset: DatasetKey, of clusters: [FigureCluster]) async throws -> [String: ClusterCover] {
        let figureIDs = clusters.compactMap(\.coverFigureID)
        guard !figureIDs.isEmpty else { return [:] }
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT c.figure_id, f.document FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.figure_id IN (\(binds: figureIDs))
                """).all()
        }
        var byFigure: [String: ClusterCover] = [:]
        for row in rows {
            let figureID = try row.decode(column: "figure_id", as: String.self)
            guard let document = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue,
                  let figure = document["Figures"]?.arrayValue?.first(where: { $0.objectValue?["FigureId"]?.stringValue == figureID })
            else { continue }
            byFigure[figureID] = ClusterCover(document: document, figure: figure)
        }
        var covers: [String: ClusterCover] = [:]
        for cluster in clusters {
            if let figure = cluster.coverFigureID, let cover = byFigure[figure] { covers[cluster.id] = cover }
        }
        return covers
    }

    /// The faces of a person with the files they are in, best face first.
    public func faces(dataset: DatasetKey, cluster: String, limit: Int = 1000) async throws -> [ClusterFaceRecord] {
        try await store.withConnection { db in
            try await db.raw("""
                SELECT c.figure_id, c.file_id, c.pinned, f.uri FROM media_faces c JOIN media_files f ON f.id = c.file_id
                WHERE c.dataset_key = \(bind: dataset.description) AND c.cluster_id = \(bind: cluster)
                ORDER BY c.quality DESC, c.figure_id LIMIT \(bind: limit)
                """).all()
        }.map { row in
            ClusterFaceRecord(figureID: try row.decode(column: "figure_id", as: String.self),
                              fileID: try row.decode(column: "file_id", as: String.self),
                              uri: try row.decode(column: "uri", as: String.self),
                              pinned: try row.decode(column: "pinned", as: Int.self) != 0)
        }
    }

    // MARK: Editing

    /// Renames, relabels or re-covers a person.
    public func update(dataset: DatasetKey, id: String, _ changes: ClusterChanges) async throws {
        try await store.withTransaction { db in
            guard let row = try await db.raw("""
                SELECT * FROM media_clusters WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: id)
                """).first()
            else { throw VisageError.notFound(kind: .figureCluster, name: id) }
            var cluster = try Self.cluster(row)
            let before = PeopleEdit.Part.row(of: cluster)
            if let expected = changes.lockVersion, expected != cluster.lockVersion {
                throw VisageError.preconditionFailed(message:
                    "MetaLockVersion \(expected) is stale: figure cluster \(id) is at \(cluster.lockVersion); read it again")
            }
            if let name = changes.name { cluster.name = name }
            if let labels = changes.customLabels { cluster.customLabels = labels }
            if let cover = changes.coverFigureID {
                guard try await db.raw("""
                    SELECT 1 FROM media_faces WHERE figure_id = \(bind: cover) AND dataset_key = \(bind: dataset.description)
                      AND cluster_id = \(bind: id)
                    """).first() != nil
                else { throw VisageError.invalidArgument(field: "Cover", message: "figure \(cover) is not a face of \(id)") }
                cluster.coverFigureID = cover
                cluster.coverPinned = true
            }
            try await save(cluster, dataset: dataset, db: db)
            try await record(.rename(person: id, before: before), dataset: dataset, db: db)
        }
    }

    /// Merges people into `target`: their faces move there and they are gone.
    public func merge(dataset: DatasetKey, into target: String, from sources: [String]) async throws -> Int {
        let sources = sources.filter { $0 != target }
        return try await store.withTransaction { db in
            let key = dataset.description
            let known = try await db.raw("""
                SELECT cluster_id FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: [target] + sources))
                """).all().map { try $0.decode(column: "cluster_id", as: String.self) }
            for id in [target] + sources where !known.contains(id) { throw VisageError.notFound(kind: .figureCluster, name: id) }
            guard !sources.isEmpty else { return 0 }
            let held = try await part(dataset: dataset, id: target, db: db)
            let statements = try await differences(dataset: dataset, about: [target] + sources, db: db)
            var parts: [PeopleEdit.Part] = []
            for source in sources { parts.append(try await part(dataset: dataset, id: source, db: db)) }
            try await record(.merge(person: target, sources: parts, personFaces: held.faces, personExcluded: held.excluded,
                                    differences: statements),
                             dataset: dataset, db: db)
            return try await join(dataset: dataset, into: target, from: sources, db: db)
        }
    }

    /// What a merge does, inside the caller's transaction and without a history entry: the
    /// faces of `sources` move to `target` with what users said about them, and they are gone.
    /// Returns how many faces moved.
    func join(dataset: DatasetKey, into target: String, from sources: [String], db: any SQLDatabase) async throws -> Int {
        let key = dataset.description
        let files = try await db.raw("""
            SELECT DISTINCT file_id FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: sources))
            """).all().map { try $0.decode(column: "file_id", as: String.self) }
        let moved = try await db.raw("""
            SELECT COUNT(*) AS n FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: sources))
            """).first()?.decode(column: "n", as: Int.self) ?? 0
        try await db.raw("""
            UPDATE media_faces SET cluster_id = \(bind: target) WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: sources))
            """).run()
        try await db.raw("DELETE FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id IN (\(binds: sources))").run()
        // A face kept out of a source stays out of the person it became part of.
        let now = WallClock.nowMillis()
        for source in sources { try await copyExclusions(dataset: dataset, from: source, to: target, db: db, now: now) }
        try await carryDifferences(dataset: dataset, from: sources, to: target, db: db)
        try await db.raw("""
            DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
              AND ((kind = \(bind: ClusterConstraint.notPerson) AND other IN (\(binds: sources)))
                OR (kind = \(bind: ClusterConstraint.splitOff) AND (subject IN (\(binds: sources)) OR other IN (\(binds: sources)))))
            """).run()
        try await recount(dataset: dataset, clusters: [target], db: db)
        try await writeBack(fileIDs: files, db: db)
        return moved
    }

    /// Moves a face to another person, or out of every person (`to` nil). A moved face is the
    /// user's decision: clustering runs leave it where it was put. Into a person holding
    /// another face of its image only when that face was put there (or confirmed) by a user too.
    public func move(dataset: DatasetKey, figureID: String, to target: String?) async throws {
        try await store.withTransaction { db in try await move(dataset: dataset, figureID: figureID, to: target, db: db) }
    }

    /// A file's labels, custom id and face moves (UpdateFileMeta) in one transaction: all of
    /// them, or none when any is refused.
    public func updateFile(dataset: DatasetKey, uri: String, labels: FileLabels?, moves: [(figureID: String, to: String?)])
        async throws
    {
        try await store.withTransaction { db in
            if let labels {
                try await FileIndex.update(dataset: dataset, uri: uri, customLabels: labels.customLabels, customID: labels.customID,
                                           db: db)
            }
            for move in moves { try await self.move(dataset: dataset, figureID: move.figureID, to: move.to, db: db) }
        }
    }

    private func move(dataset: DatasetKey, figureID: String, to target: String?, db: any SQLDatabase) async throws {
        let key = dataset.description
        let (fileID, previous, wasPinned) = try await face(dataset: dataset, figureID: figureID, db: db)
        if let target {
            guard try await db.raw("""
                SELECT 1 FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: target)
                """).first() != nil
            else { throw VisageError.notFound(kind: .figureCluster, name: target) }
            // Two faces of one image are two people, unless a user says both are this one:
            // a face of the image that a run placed there must be confirmed first.
            if let mate = try await db.raw("""
                SELECT figure_id FROM media_faces WHERE file_id = \(bind: fileID) AND cluster_id = \(bind: target)
                  AND figure_id <> \(bind: figureID) AND pinned = 0
                """).first()?.decode(column: "figure_id", as: String.self) {
                throw VisageError.invalidArgument(
                    field: "FigureClusterId",
                    message: "\(target) already has face \(mate) of this image, and two faces of one image are two people; "
                        + "confirm \(mate) as \(target) first to keep both")
            }
        }
        try await db.raw("""
            UPDATE media_faces SET cluster_id = \(bind: target ?? ReservedCluster.independent), pinned = 1
            WHERE figure_id = \(bind: figureID)
            """).run()
        if let target {
            // Putting the face there by hand outweighs an earlier "not this person".
            try await db.raw("""
                DELETE FROM media_cluster_constraints WHERE dataset_key = \(bind: key)
                  AND kind = \(bind: ClusterConstraint.notPerson) AND subject = \(bind: figureID) AND other = \(bind: target)
                """).run()
        }
        try await record(.move(person: previous ?? ReservedCluster.independent, face: figureID,
                               faceWasPinned: wasPinned, faceTo: target ?? ReservedCluster.independent),
                         dataset: dataset, db: db)
        try await recount(dataset: dataset, clusters: [previous, target].compactMap { $0 }, db: db)
        try await writeBack(fileIDs: [fileID], db: db)
    }

    /// "Not this person": the face leaves the person it is in and no clustering run puts it
    /// back there (nor into any person that one is later merged into); unlike a face moved out
    /// by hand, it waits again, so a run may place it with someone else. Returns the person it left.
    @discardableResult
    public func exclude(dataset: DatasetKey, figureID: String) async throws -> String {
        try await store.withTransaction { db in
            let key = dataset.description
            let (fileID, cluster, wasPinned) = try await face(dataset: dataset, figureID: figureID, db: db)
            guard let person = cluster, person != ReservedCluster.independent else {
                throw VisageError.invalidArgument(field: "FigureId", message: "\(figureID) belongs to no person")
            }
            try await db.raw("""
                INSERT INTO media_cluster_constraints (dataset_key, kind, subject, other, created_at)
                VALUES (\(bind: key), \(bind: ClusterConstraint.notPerson), \(bind: figureID), \(bind: person), \(bind: WallClock.nowMillis()))
                ON CONFLICT DO NOTHING
                """).run()
            try await db.raw("""
                UPDATE media_faces SET cluster_id = \(bind: ReservedCluster.independent), pinned = 0 WHERE figure_id = \(bind: figureID)
                """).run()
            try await record(.exclude(person: person, face: figureID, faceWasPinned: wasPinned,
                                      faceTo: ReservedCluster.independent),
                             dataset: dataset, db: db)
            try await recount(dataset: dataset, clusters: [person], db: db)
            try await writeBack(fileIDs: [fileID], db: db)
            return person
        }
    }

    /// Splits a person: the chosen faces (some, not all, of its faces) become a new person,
    /// which keeps them where the user put them; faces kept out of the person are kept out of
    /// both parts. Returns the new person's id.
    public func split(dataset: DatasetKey, cluster: String, figureIDs: [String]) async throws -> String {
        let chosen = Array(Set(figureIDs)).sorted()
        guard !chosen.isEmpty else { throw VisageError.invalidArgument(field: "Faces", message: "name at least one face to split off") }
        return try await store.withTransaction { db in
            let key = dataset.description
            guard try await db.raw("""
                SELECT 1 FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: cluster)
                """).first() != nil
            else { throw VisageError.notFound(kind: .figureCluster, name: cluster) }
            let rows = try await db.raw("""
                SELECT figure_id, file_id FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: cluster)
                """).all()
            let faces = Dictionary(try rows.map { (try $0.decode(column: "figure_id", as: String.self),
                                                   try $0.decode(column: "file_id", as: String.self)) }) { first, _ in first }
            if let stranger = chosen.first(where: { faces[$0] == nil }) {
                throw VisageError.invalidArgument(field: "Faces", message: "\(stranger) is not a face of \(cluster)")
            }
            guard chosen.count < faces.count else {
                throw VisageError.invalidArgument(field: "Faces", message: "leave at least one face in \(cluster)")
            }
            let now = WallClock.nowMillis()
            let pinnedBefore = Set(try await part(dataset: dataset, id: cluster, db: db).pinned)
            let id = try await create(dataset: dataset, number: try await nextNumber(dataset: dataset, db: db), db: db, now: now)
            try await db.raw("""
                UPDATE media_faces SET cluster_id = \(bind: id), pinned = 1
                WHERE dataset_key = \(bind: key) AND figure_id IN (\(binds: chosen))
                """).run()
            try await copyExclusions(dataset: dataset, from: cluster, to: id, db: db, now: now)
            try await recount(dataset: dataset, clusters: [cluster, id], db: db, now: now)
            var made = try await part(dataset: dataset, id: id, db: db)
            made.pinned = chosen.filter(pinnedBefore.contains)
            try await record(.split(person: cluster, made: made), dataset: dataset, db: db)
            try await writeBack(fileIDs: Array(Set(chosen.compactMap { faces[$0] })), db: db)
            return id
        }
    }

    /// The faces Visage would split off a person (see `PersonSplit`), best first; empty when
    /// the person's faces show no second person.
    public func proposeSplit(dataset: DatasetKey, cluster: String) async throws -> [String] {
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT figure_id, embedding FROM media_faces
                WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster)
                ORDER BY quality DESC, figure_id
                """).all()
        }
        guard !rows.isEmpty else { throw VisageError.notFound(kind: .figureCluster, name: cluster) }
        var ids: [String] = [], embeddings: [Float] = [], dimension = 0
        for row in rows {
            let vector = try row.decode(column: "embedding", as: Data.self).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            if dimension == 0 { dimension = vector.count }
            guard vector.count == dimension else { continue }
            ids.append(try row.decode(column: "figure_id", as: String.self))
            embeddings += vector
        }
        return PersonSplit.propose(embeddings: embeddings, dimension: dimension)?.faces.map { ids[$0] } ?? []
    }

    // MARK: Shared by runs and edits

    /// A face's file, person and whether a user pinned it there.
    func face(dataset: DatasetKey, figureID: String, db: any SQLDatabase) async throws -> (file: String, cluster: String?, pinned: Bool) {
        guard let row = try await db.raw("""
            SELECT file_id, cluster_id, pinned FROM media_faces
            WHERE figure_id = \(bind: figureID) AND dataset_key = \(bind: dataset.description)
            """).first()
        else { throw VisageError.notFound(kind: .figure, name: figureID) }
        return (try row.decode(column: "file_id", as: String.self), try row.decode(column: "cluster_id", as: String?.self),
                try row.decode(column: "pinned", as: Int.self) != 0)
    }

    /// Recomputes the counts and cover of these people from their faces; a person left with no
    /// face is removed.
    func recount(dataset: DatasetKey, clusters ids: [String], db: any SQLDatabase, now: Int64 = WallClock.nowMillis()) async throws {
        let key = dataset.description
        for id in Set(ids) where !id.hasPrefix("figure-cluster-id-") {
            guard let row = try await db.raw("""
                SELECT * FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                """).first()
            else { continue }
            var cluster = try Self.cluster(row)
            let counts = try await db.raw("""
                SELECT COUNT(*) AS faces, COUNT(DISTINCT file_id) AS images FROM media_faces
                WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                """).first()
            let faces = try counts?.decode(column: "faces", as: Int.self) ?? 0
            guard faces > 0 else {
                try await db.raw("DELETE FROM media_clusters WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)").run()
                continue
            }
            let images = try counts?.decode(column: "images", as: Int.self) ?? 0
            let coverStillHere = try await cluster.coverFigureID.asyncMap { cover in
                try await db.raw("SELECT 1 FROM media_faces WHERE figure_id = \(bind: cover) AND cluster_id = \(bind: id)").first() != nil
            } ?? false
            if !(cluster.coverPinned && coverStillHere) {
                cluster.coverPinned = false
                cluster.coverFigureID = try await db.raw("""
                    SELECT figure_id FROM media_faces WHERE dataset_key = \(bind: key) AND cluster_id = \(bind: id)
                    ORDER BY quality_ok DESC, quality DESC, figure_id LIMIT 1
                    """).first()?.decode(column: "figure_id", as: String.self)
            }
            cluster.imageCount = images
            cluster.faceCount = faces
            try await save(cluster, dataset: dataset, db: db, now: now)
        }
    }

    /// Creates a person numbered `number` (id `Cluster-<number>`), empty until its faces are set and counted.
    func create(dataset: DatasetKey, number: Int64, db: any SQLDatabase, now: Int64) async throws -> String {
        let id = "Cluster-\(number)"
        let key = dataset.description
        try await db.raw("""
            INSERT INTO media_cluster_numbers (dataset_key, last_number) VALUES (\(bind: key), \(bind: number))
            ON CONFLICT (dataset_key) DO UPDATE SET last_number = \(bind: number)
            """).run()
        try await db.raw("""
            INSERT INTO media_clusters (dataset_key, cluster_id, number, name, custom_labels, cover_figure_id, cover_pinned,
                                        image_count, face_count, lock_version, created_at, updated_at)
            VALUES (\(bind: dataset.description), \(bind: id), \(bind: number), '', '{}', NULL, 0, 0, 0, 0, \(bind: now), \(bind: now))
            """).run()
        return id
    }

    /// The next free person number of a dataset.
    func nextNumber(dataset: DatasetKey, db: any SQLDatabase) async throws -> Int64 {
        let key = dataset.description
        let existing = try await db.raw("""
            SELECT MAX(number) AS n FROM media_clusters WHERE dataset_key = \(bind: key)
            """).first()?.decode(column: "n", as: Int64?.self) ?? 0
        let used = try await db.raw("""
            SELECT last_number FROM media_cluster_numbers WHERE dataset_key = \(bind: key)
            """).first()?.decode(column: "last_number", as: Int64.self) ?? 0
        return max(existing, used) + 1
    }

    /// Rewrites `Figures[].FigureClusterId` of these files' documents (and their query fields)
    /// from the face rows.
    func writeBack(fileIDs: [String], db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: fileIDs.count, by: 200).map({ Array(fileIDs[$0..<min(fileIDs.count, $0 + 200)]) }) {
            let faces = try await db.raw("SELECT figure_id, cluster_id FROM media_faces WHERE file_id IN (\(binds: chunk))").all()
            var clusterOf: [String: String] = [:]
            for row in faces {
                if let cluster = try row.decode(column: "cluster_id", as: String?.self) {
                    clusterOf[try row.decode(column: "figure_id", as: String.self)] = cluster
                }
            }
            let files = try await db.raw("SELECT id, dataset_key, document FROM media_files WHERE id IN (\(binds: chunk))").all()
            for row in files {
                let id = try row.decode(column: "id", as: String.self)
                guard var document = JSONValue(parsing: try row.decode(column: "document", as: String.self))?.objectValue,
                      let figures = document["Figures"]?.arrayValue
                else { continue }
                document["Figures"] = .array(figures.map { figure in
                    guard var fields = figure.objectValue, let figureID = fields["FigureId"]?.stringValue else { return figure }
                    fields["FigureClusterId"] = clusterOf[figureID].map(JSONValue.string)
                    return .object(fields)
                })
                try await FileIndex.replaceDocument(id: id, key: try row.decode(column: "dataset_key", as: String.self),
                                                    document: document, db: db)
            }
        }
    }

    func save(_ cluster: FigureCluster, dataset: DatasetKey, db: any SQLDatabase, now: Int64 = WallClock.nowMillis()) async throws {
        try await db.raw("""
            UPDATE media_clusters SET name = \(bind: cluster.name),
                custom_labels = \(bind: JSONValue.object(cluster.customLabels.mapValues(JSONValue.string)).text),
                cover_figure_id = \(bind: cluster.coverFigureID), cover_pinned = \(bind: cluster.coverPinned ? 1 : 0),
                image_count = \(bind: cluster.imageCount), face_count = \(bind: cluster.faceCount),
                lock_version = lock_version + 1, updated_at = \(bind: now)
            WHERE dataset_key = \(bind: dataset.description) AND cluster_id = \(bind: cluster.id)
            """).run()
    }

    static func cluster(_ row: any SQLRow) throws -> FigureCluster {
        let labels = JSONValue(parsing: try row.decode(column: "custom_labels", as: String.self))?.objectValue ?? [:]
        return FigureCluster(
            id: try row.decode(column: "cluster_id", as: String.self), number: try row.decode(column: "number", as: Int64.self),
            name: try row.decode(column: "name", as: String.self), customLabels: labels.compactMapValues(\.stringValue),
            coverFigureID: try row.decode(column: "cover_figure_id", as: String?.self),
            coverPinned: try row.decode(column: "cover_pinned", as: Int.self) != 0,
            imageCount: try row.decode(column: "image_count", as: Int.self), faceCount: try row.decode(column: "face_count", as: Int.self),
            lockVersion: try row.decode(column: "lock_version", as: Int64.self),
            created: try row.decode(column: "created_at", as: Int64.self), updated: try row.decode(column: "updated_at", as: Int64.self))
    }
}

/// A person's cover: the file document and the face in it.
public struct ClusterCover: Sendable {
    public let document: [String: JSONValue]
    public let figure: JSONValue
}

/// A face of a person, with its file.
public struct ClusterFaceRecord: Sendable, Equatable {
    public let figureID: String
    public let fileID: String
    public let uri: String
    /// Placed by a user rather than by clustering.
    public let pinned: Bool
}

/// Kinds of facts users state about people (`media_cluster_constraints.kind`).
public enum ClusterConstraint {
    /// The face (`subject`) never joins the person (`other`).
    public static let notPerson = "not-person"
    /// The two faces (`subject` < `other`) never share a person.
    public static let apartFaces = PeopleEdit.Kind.apartFaces.rawValue
    /// The two people (`subject` < `other`) are never merged by a run (a user's merge lifts it).
    public static let differentPeople = PeopleEdit.Kind.differentPeople.rawValue
    /// A run split the person (`subject`) off `other` to keep apart two faces said to be
    /// different; undoing that statement joins them again. Not a rule: runs ignore it.
    public static let splitOff = "split-off"
}
