import Foundation
import SQLKit
import VisageCore
import VisageStore

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
/// one transaction. The edits' rules are here; the rows they read and write are in
/// `PeopleRows.swift`, the reads callers make in `PeopleQueries.swift`.
public struct FigureClusterStore: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    /// Renames, relabels or re-covers a person.
    public func update(dataset: DatasetKey, id: String, _ changes: ClusterChanges) async throws {
        try await store.withTransaction { db in
            var cluster = try await existing(dataset: dataset, id: id, db: db)
            let before = PeopleEdit.Part.row(of: cluster)
            if let expected = changes.lockVersion, expected != cluster.lockVersion {
                throw VisageError.preconditionFailed(message:
                    "MetaLockVersion \(expected) is stale: figure cluster \(id) is at \(cluster.lockVersion); read it again")
            }
            if let name = changes.name { cluster.name = name }
            if let labels = changes.customLabels { cluster.customLabels = labels }
            if let cover = changes.coverFigureID {
                guard try await holds(dataset: dataset, person: id, face: cover, db: db) else {
                    throw VisageError.invalidArgument(field: "Cover", message: "figure \(cover) is not a face of \(id)")
                }
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
            let known = try await existingIDs(dataset: dataset, among: [target] + sources, db: db)
            for id in [target] + sources where !known.contains(id) { throw VisageError.notFound(kind: .figureCluster, name: id) }
            guard !sources.isEmpty else { return 0 }
            let held = try await part(dataset: dataset, id: target, db: db)
            let statements = try await differences(dataset: dataset, about: [target] + sources, db: db)
            var parts: [PeopleEdit.Part] = []
            for source in sources { parts.append(try await part(dataset: dataset, id: source, db: db)) }
            // Merging a named person into an unnamed one keeps the name: the user said they are
            // one person, not that the name was wrong.
            var renamed: PeopleEdit.Part?
            if held.name.isEmpty, let name = parts.first(where: { !$0.name.isEmpty })?.name {
                var cluster = try await existing(dataset: dataset, id: target, db: db)
                renamed = PeopleEdit.Part.row(of: cluster)
                cluster.name = name
                try await save(cluster, dataset: dataset, db: db)
            }
            try await record(.merge(person: target, sources: parts, personFaces: held.faces, personExcluded: held.excluded,
                                    differences: statements, renamed: renamed),
                             dataset: dataset, db: db)
            return try await join(dataset: dataset, into: target, from: sources, db: db)
        }
    }

    /// What a merge does, inside the caller's transaction and without a history entry: the
    /// faces of `sources` move to `target` with what users said about them, and they are gone.
    /// Returns how many faces moved.
    func join(dataset: DatasetKey, into target: String, from sources: [String], db: any SQLDatabase) async throws -> Int {
        let files = try await fileIDs(dataset: dataset, people: sources, db: db)
        let moved = try await faceCount(dataset: dataset, people: sources, db: db)
        try await moveFaces(dataset: dataset, from: sources, to: target, db: db)
        try await deleteRows(dataset: dataset, people: sources, db: db)
        // A face kept out of a source stays out of the person it became part of.
        let now = WallClock.nowMillis()
        for source in sources { try await copyExclusions(dataset: dataset, from: source, to: target, db: db, now: now) }
        try await carryDifferences(dataset: dataset, from: sources, to: target, db: db)
        try await forgetConstraints(dataset: dataset, about: sources, db: db)
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
        let (fileID, previous, wasPinned) = try await face(dataset: dataset, figureID: figureID, db: db)
        if let target {
            _ = try await existing(dataset: dataset, id: target, db: db)
            // Two faces of one image are two people, unless a user says both are this one:
            // a face of the image that a run placed there must be confirmed first.
            if let mate = try await unconfirmedFace(of: fileID, in: target, besides: figureID, db: db) {
                throw VisageError.invalidArgument(
                    field: "FigureClusterId",
                    message: "\(target) already has face \(mate) of this image, and two faces of one image are two people; "
                        + "confirm \(mate) as \(target) first to keep both")
            }
        }
        try await assign([figureID], to: target ?? ReservedCluster.independent, pinned: true, dataset: dataset, db: db)
        if let target {
            // Putting the face there by hand outweighs an earlier "not this person".
            try await liftExclusion(dataset: dataset, face: figureID, person: target, db: db)
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
            let (fileID, cluster, wasPinned) = try await face(dataset: dataset, figureID: figureID, db: db)
            guard let person = cluster, person != ReservedCluster.independent else {
                throw VisageError.invalidArgument(field: "FigureId", message: "\(figureID) belongs to no person")
            }
            try await addExclusion(dataset: dataset, face: figureID, person: person, db: db, now: WallClock.nowMillis())
            try await assign([figureID], to: ReservedCluster.independent, pinned: false, dataset: dataset, db: db)
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
            _ = try await existing(dataset: dataset, id: cluster, db: db)
            let faces = try await faceFiles(dataset: dataset, person: cluster, db: db)
            if let stranger = chosen.first(where: { faces[$0] == nil }) {
                throw VisageError.invalidArgument(field: "Faces", message: "\(stranger) is not a face of \(cluster)")
            }
            guard chosen.count < faces.count else {
                throw VisageError.invalidArgument(field: "Faces", message: "leave at least one face in \(cluster)")
            }
            let now = WallClock.nowMillis()
            let pinnedBefore = Set(try await part(dataset: dataset, id: cluster, db: db).pinned)
            let id = try await create(dataset: dataset, number: try await nextNumber(dataset: dataset, db: db), db: db, now: now)
            try await assign(chosen, to: id, pinned: true, dataset: dataset, db: db)
            try await copyExclusions(dataset: dataset, from: cluster, to: id, db: db, now: now)
            try await recount(dataset: dataset, clusters: [cluster, id], db: db, now: now)
            var made = try await part(dataset: dataset, id: id, db: db)
            made.pinned = chosen.filter(pinnedBefore.contains)
            try await record(.split(person: cluster, made: made), dataset: dataset, db: db)
            try await writeBack(fileIDs: Array(Set(chosen.compactMap { faces[$0] })), db: db)
            return id
        }
    }
}
