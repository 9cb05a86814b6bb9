import VisageCore

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
