import HTTPTypes
import VisageCore

/// The dialects one port serves, and which of them a request belongs to.
public struct DialectRegistry: Sendable {
    public let dialects: [any Dialect]
    /// Answers what no dialect recognises (and renders its error).
    public let fallback: any Dialect

    /// First path segments some dialect owns: never bucket names, whatever `BucketName` allows.
    public let reservedNames: Set<String>

    public init(_ dialects: [any Dialect], fallback: any Dialect) {
        self.dialects = dialects
        self.fallback = fallback
        self.reservedNames = dialects.reduce(into: BucketName.reserved) { $0.formUnion($1.recognition.pathPrefixes) }
        let owners = dialects.flatMap { $0.recognition.pathPrefixes }
        precondition(Set(owners).count == owners.count, "two dialects claim the same path prefix")
        precondition(dialects.filter(\.recognition.otherPaths).count <= 1, "only one dialect may take every other path")
        precondition(dialects.filter(\.recognition.restOfRoot).count <= 1, "only one dialect may take the rest of /")
    }

    /// The dialect a request belongs to; no body is read.
    public func classify(_ head: RequestHead) -> any Dialect {
        if let marked = dialects.first(where: { $0.recognition.header.map { head.headers[$0] != nil } == true }) {
            return marked
        }
        if let claimant = dialects.first(where: { $0.recognition.claims?(head) == true }) { return claimant }
        let first = head.firstSegment
        if first.isEmpty {
            return dialects.first { $0.recognition.root?(head) == true } ?? dialects.first(where: \.recognition.restOfRoot) ?? fallback
        }
        if let owner = dialects.first(where: { $0.recognition.pathPrefixes.contains(first) }) { return owner }
        guard !reservedNames.contains(first) else { return fallback }
        return dialects.first(where: \.recognition.otherPaths) ?? fallback
    }
}
