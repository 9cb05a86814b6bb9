/// The kinds of things the core names when one is missing, taken, or still needed. Each dialect
/// names them in its own codes with an exhaustive switch, so a new kind cannot be forgotten.
public enum ResourceKind: String, Sendable, Equatable, CaseIterable {
    case accessKey = "AccessKey", user = "User", role = "Role", policy = "Policy", policyAttachment = "Attachment"
    /// A policy's attachment to a user, or to a role.
    case userPolicy = "User.Policy", rolePolicy = "Role.Policy"
    case bucket = "bucket", object = "object", upload = "upload"
    case project = "Project", dataset = "Dataset", binding = "Binding", file = "File", task = "Task"
    case figure = "Figure", figureCluster = "FigureCluster"
    /// A dataset's clustering run (one at a time).
    case clusteringRun = "FigureClusters"
    /// An entry of a dataset's people history.
    case edit = "Edit"
}

/// Why an object store refuses a request, where clients tell the reasons apart.
public enum ObjectRejection: Sendable, Equatable {
    case invalidBucketName, invalidObjectKey
    /// A completion lists a part that was not uploaded (or with another ETag), or none.
    case invalidPart
    case invalidPartOrder
    /// A part other than the last is below the minimum part size.
    case partTooSmall
    /// The body does not have the MD5 digest sent with it.
    case digestMismatch
    case invalidTags
}

/// A failure of a core operation, in terms every dialect can translate into its own error format.
public enum VisageError: Error, Equatable, Sendable {
    /// A request value is missing or malformed; `field` names the offending input.
    case invalidArgument(field: String, message: String)
    /// An object-store request refused for a reason clients tell apart.
    case objectRejected(ObjectRejection, message: String)
    /// A policy document that does not parse or validate; `field` names the input that held it.
    case malformedPolicy(field: String, message: String)
    /// A named thing does not exist.
    case notFound(kind: ResourceKind, name: String)
    /// The thing already exists or is in a state that forbids the operation.
    case conflict(kind: ResourceKind, name: String, message: String)
    /// `owner` (e.g. a user) already has as many of `kind` (e.g. access keys) as it may.
    case limitExceeded(kind: ResourceKind, owner: ResourceKind, name: String, message: String)
    /// The thing cannot be deleted while things of kind `by` depend on it (a user's access keys).
    case inUse(kind: ResourceKind, by: ResourceKind, name: String, message: String)
    /// The caller is not allowed to do this.
    case forbidden(message: String)
    /// The input is larger than the limit, in bytes.
    case tooLarge(field: String, limit: Int)
    /// A condition the caller set on the request (ETag, modification time, range) does not hold.
    case preconditionFailed(message: String)
    /// A requested byte range selects nothing in an object of `size` bytes.
    case rangeNotSatisfiable(size: Int64)
    /// Something went wrong on our side; the message is safe to show.
    case internalFailure(message: String)
    /// A service the request depends on (the object backend, the database) did not answer or
    /// refused for now; nothing was changed and the same request may succeed later.
    case unavailable(message: String)
}

extension VisageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidArgument(field, message): return "invalid \(field): \(message)"
        case let .objectRejected(_, message): return message
        case let .malformedPolicy(field, message): return "invalid \(field): \(message)"
        case let .notFound(kind, name): return "\(kind.rawValue) not found: \(name)"
        case let .conflict(_, _, message): return message
        case let .limitExceeded(_, _, _, message): return message
        case let .inUse(_, _, _, message): return message
        case let .forbidden(message): return message
        case let .tooLarge(field, limit): return "\(field) exceeds the limit of \(limit) bytes"
        case let .preconditionFailed(message): return message
        case let .rangeNotSatisfiable(size): return "the requested range is not satisfiable for an object of \(size) bytes"
        case let .internalFailure(message): return message
        case let .unavailable(message): return message
        }
    }
}

extension VisageError {
    /// Whether the same request may succeed later unchanged (a service was unavailable), so work
    /// queues retry it rather than record it as the outcome.
    public var isTransient: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
