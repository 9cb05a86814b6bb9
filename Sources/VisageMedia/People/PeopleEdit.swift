import Foundation

/// One edit of a dataset's people, kept in the dataset's history with what undoing it needs.
public enum PeopleEdit: Sendable, Equatable {
    /// A person's name, labels or cover changed; `before` is its row as it was.
    case rename(person: String, before: Part)
    /// People merged into `person`: the sources as they were, the faces `person` held before and
    /// those kept out of it, and the "these two are different" statements about the people merged
    /// (nil in edits recorded before they were kept), and `person`'s row as it was when the merge
    /// gave it a source's name (nil when its name stayed).
    case merge(person: String, sources: [Part], personFaces: [String], personExcluded: [String], differences: [[String]]?,
               renamed: Part?)
    /// Faces of `person` split off into a new person, `made`.
    case split(person: String, made: Part)
    /// A face moved by hand from `person` (or from no person) to `faceTo`.
    case move(person: String, face: String, faceWasPinned: Bool, faceTo: String)
    /// "Not this person": a face left `person` and waits again (`faceTo`).
    case exclude(person: String, face: String, faceWasPinned: Bool, faceTo: String)
    /// "These two are different" for two faces; `person` held `face` then.
    case apartFaces(person: String, face: String, other: String)
    /// "These two are different" for two people.
    case differentPeople(person: String, other: String)
    /// A re-clustering from scratch: the people it took away (rows only), the people whose name
    /// it changed as they were, and each face it moved.
    case recluster(removed: [Part], renamed: [Part], moves: [String: FaceMove])

    /// The kinds of edit, as the history's `kind` column and the stored records name them.
    public enum Kind: String, Codable, Sendable {
        case rename, merge, split, move, exclude
        /// "These two are different": two faces, or two people.
        case apartFaces = "apart-faces", differentPeople = "different-people"
        /// A re-clustering from scratch.
        case recluster
    }

    /// A person as it was before an edit took it away (a merge source) or made it (a split part).
    public struct Part: Codable, Sendable, Equatable {
        public var id: String
        public var number: Int64
        public var name: String
        public var customLabels: [String: String]
        public var coverFigureID: String?
        public var coverPinned: Bool
        public var created: Int64
        /// Its faces, and which of them a user had pinned.
        public var faces: [String]
        public var pinned: [String]
        /// Faces kept out of it ("not this person").
        public var excluded: [String]

        /// A person's row alone, without its faces.
        static func row(of cluster: FigureCluster) -> Part {
            Part(id: cluster.id, number: cluster.number, name: cluster.name, customLabels: cluster.customLabels,
                 coverFigureID: cluster.coverFigureID, coverPinned: cluster.coverPinned, created: cluster.created,
                 faces: [], pinned: [], excluded: [])
        }
    }

    /// Where a re-clustering took a face: from one person to another, an empty id meaning waiting.
    /// Stored as `[from, to]`.
    public struct FaceMove: Codable, Sendable, Equatable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }

        public init(from decoder: any Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            guard pair.count == 2 else {
                throw DecodingError.dataCorruptedError(
                    in: pair, debugDescription: "a re-clustering's face move is [from, to], not \(pair.count ?? 0) values")
            }
            from = try pair.decode(String.self)
            to = try pair.decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var pair = encoder.unkeyedContainer()
            try pair.encode(from)
            try pair.encode(to)
        }
    }

    /// The edit's kind, as the history's `kind` column and the stored record name it.
    public var kind: Kind {
        switch self {
        case .rename: .rename
        case .merge: .merge
        case .split: .split
        case .move: .move
        case .exclude: .exclude
        case .apartFaces: .apartFaces
        case .differentPeople: .differentPeople
        case .recluster: .recluster
        }
    }

    /// The person renamed, merged into, split, that a face left, or said to be different; none
    /// (`ReservedCluster.independent`) for a re-clustering, or a face that was in no person.
    public var person: String {
        switch self {
        case let .rename(person, _), let .merge(person, _, _, _, _, _), let .split(person, _), let .move(person, _, _, _),
             let .exclude(person, _, _, _), let .apartFaces(person, _, _), let .differentPeople(person, _):
            person
        case .recluster:
            ReservedCluster.independent
        }
    }

    /// The people recorded whole: a merge's sources, a split's new person, the people a
    /// re-clustering took away.
    public var parts: [Part] {
        switch self {
        case let .merge(_, sources, _, _, _, _): sources
        case let .split(_, made): [made]
        case let .recluster(removed, _, _): removed
        case .rename, .move, .exclude, .apartFaces, .differentPeople: []
        }
    }

    /// The face moved, kept out, or said to be different from another.
    public var face: String? {
        switch self {
        case let .move(_, face, _, _), let .exclude(_, face, _, _), let .apartFaces(_, face, _): face
        case .rename, .merge, .split, .differentPeople, .recluster: nil
        }
    }

    /// Where a moved or kept-out face went.
    public var faceTo: String? {
        switch self {
        case let .move(_, _, _, faceTo), let .exclude(_, _, _, faceTo): faceTo
        case .rename, .merge, .split, .apartFaces, .differentPeople, .recluster: nil
        }
    }

    /// The other face or person said to be different.
    public var other: String? {
        switch self {
        case let .apartFaces(_, _, other), let .differentPeople(_, other): other
        case .rename, .merge, .split, .move, .exclude, .recluster: nil
        }
    }

    /// The person's name before a rename, or before a merge that brought a source's name.
    public var nameBefore: String? {
        switch self {
        case let .rename(_, before): before.name
        case let .merge(_, _, _, _, _, renamed): renamed?.name
        case .split, .move, .exclude, .apartFaces, .differentPeople, .recluster: nil
        }
    }
}

extension PeopleEdit: Codable {
    /// The stored shape is one object holding every field any kind uses, as the history's rows
    /// were written before edits were an enum; both read alike.
    private enum Field: String, CodingKey {
        case kind, person, before, parts, personFaces, personExcluded, differences, face, faceWasPinned, faceTo, other, moves, renamed
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Field.self)
        let kind = try fields.decode(Kind.self, forKey: .kind)
        // A field the kind needs is required: an edit missing one could not be undone.
        func required<Value: Decodable>(_ field: Field, as type: Value.Type = Value.self) throws -> Value {
            guard let value = try fields.decodeIfPresent(Value.self, forKey: field) else {
                throw DecodingError.keyNotFound(field, DecodingError.Context(
                    codingPath: fields.codingPath, debugDescription: "an edit of kind \(kind.rawValue) needs \(field.stringValue)"))
            }
            return value
        }
        switch kind {
        case .rename:
            self = .rename(person: try required(.person), before: try required(.before))
        case .merge:
            self = .merge(person: try required(.person), sources: try required(.parts), personFaces: try required(.personFaces),
                          personExcluded: try required(.personExcluded),
                          differences: try fields.decodeIfPresent([[String]].self, forKey: .differences),
                          renamed: try fields.decodeIfPresent(Part.self, forKey: .before))
        case .split:
            let parts: [Part] = try required(.parts)
            guard parts.count == 1, let made = parts.first else {
                throw DecodingError.dataCorruptedError(
                    forKey: .parts, in: fields,
                    debugDescription: "an edit of kind split needs the one person it made in parts, not \(parts.count)")
            }
            self = .split(person: try required(.person), made: made)
        case .move:
            self = .move(person: try required(.person), face: try required(.face), faceWasPinned: try required(.faceWasPinned),
                         faceTo: try required(.faceTo))
        case .exclude:
            self = .exclude(person: try required(.person), face: try required(.face), faceWasPinned: try required(.faceWasPinned),
                            faceTo: try required(.faceTo))
        case .apartFaces:
            self = .apartFaces(person: try required(.person), face: try required(.face), other: try required(.other))
        case .differentPeople:
            self = .differentPeople(person: try required(.person), other: try required(.other))
        case .recluster:
            self = .recluster(removed: try required(.parts), renamed: try required(.renamed), moves: try required(.moves))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        // Every field is written, empty where the kind has none, in the stored order, so a
        // reader of the one-object shape finds all it expects.
        var before: Part?, personFaces: [String] = [], personExcluded: [String] = [], differences: [[String]]?
        var faceWasPinned = false, moves: [String: FaceMove] = [:], renamed: [Part] = []
        switch self {
        case let .rename(_, recorded):
            before = recorded
        case let .merge(_, _, faces, excluded, statements, row):
            (personFaces, personExcluded, differences, before) = (faces, excluded, statements, row)
        case let .move(_, _, pinned, _), let .exclude(_, _, pinned, _):
            faceWasPinned = pinned
        case let .recluster(_, names, moved):
            (renamed, moves) = (names, moved)
        case .split, .apartFaces, .differentPeople:
            break
        }
        var fields = encoder.container(keyedBy: Field.self)
        try fields.encode(kind, forKey: .kind)
        try fields.encode(person, forKey: .person)
        try fields.encodeIfPresent(before, forKey: .before)
        try fields.encode(parts, forKey: .parts)
        try fields.encode(personFaces, forKey: .personFaces)
        try fields.encode(personExcluded, forKey: .personExcluded)
        try fields.encodeIfPresent(differences, forKey: .differences)
        try fields.encodeIfPresent(face, forKey: .face)
        try fields.encode(faceWasPinned, forKey: .faceWasPinned)
        try fields.encodeIfPresent(faceTo, forKey: .faceTo)
        try fields.encodeIfPresent(other, forKey: .other)
        try fields.encode(moves, forKey: .moves)
        try fields.encode(renamed, forKey: .renamed)
    }
}
