import CFaiss
import Foundation
import VisageCore

/// Nearest-neighbour search over fixed-length float vectors with 64-bit ids (L2 distance).
public protocol VectorIndex: AnyObject {
    var dimension: Int { get }
    var count: Int { get }
    /// Whether answers are approximate (a graph index) rather than exact.
    var isApproximate: Bool { get }
    /// The ids of every stored vector.
    func ids() -> [Int64]
    /// Adds vectors (row-major, `ids.count` × `dimension`).
    func add(_ vectors: [Float], ids: [Int64]) throws
    /// The `k` nearest stored vectors of each query (row-major), nearest first, with their
    /// Euclidean distances; fewer when fewer are stored.
    func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]]
    /// Saves the index to `url` atomically.
    func write(to url: URL) throws
}

/// One answer of a vector search.
public struct VectorMatch: Sendable, Equatable {
    public let id: Int64
    public let distance: Float
}

/// A FAISS index: exact (flat) below `approximateFrom` vectors, an inverted file (IVF-Flat)
/// from there on, trained on the vectors it is first given.
public final class FaissVectorIndex: VectorIndex {
    private let handle: OpaquePointer
    public let dimension: Int
    /// Cells an inverted-file search visits (nprobe): more is more exact and slower.
    public var searchDepth = FaissVectorIndex.defaultSearchDepth

    /// Where exact search gives way to the inverted file by default: a flat search of 20,000
    /// vectors still answers a whole dataset's neighbour lists in seconds on two cores.
    public static let defaultApproximateFrom = 20_000

    /// Cells visited per search (VISAGE_VECTOR_PROBES, default 16).
    public static var defaultSearchDepth: Int {
        ProcessInfo.processInfo.environment["VISAGE_VECTOR_PROBES"].flatMap(Int.init).map { max(1, $0) } ?? 16
    }

    /// A new empty index sized for about `expected` vectors: an inverted file of 4·√expected
    /// cells when approximate (the usual rule of thumb), which `train` must see first.
    public init(dimension: Int, expected: Int, approximateFrom: Int = FaissVectorIndex.defaultApproximateFrom) throws {
        var out: OpaquePointer?
        var message = [CChar](repeating: 0, count: 256)
        let cells = expected >= approximateFrom ? Int32(4 * Double(expected).squareRoot()) : 0
        guard visage_faiss_new(Int32(dimension), cells, &out, &message, message.count) == 0, let out else {
            throw VisageError.internalFailure(message: "vector index: \(String(cString: message))")
        }
        handle = out
        self.dimension = dimension
    }

    /// Whether the index must learn its cells (`train`) before vectors are added.
    public var needsTraining: Bool { visage_faiss_is_trained(handle) == 0 }

    /// Learns the cells from sample vectors (row-major).
    public func train(_ vectors: [Float]) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard visage_faiss_train(handle, Int64(vectors.count / dimension), vectors, &message, message.count) == 0 else {
            throw VisageError.internalFailure(message: "vector index: \(String(cString: message))")
        }
    }

    /// Reads an index saved by `write(to:)`.
    public init(contentsOf url: URL) throws {
        var out: OpaquePointer?
        var message = [CChar](repeating: 0, count: 256)
        guard visage_faiss_read(url.path, &out, &message, message.count) == 0, let out else {
            throw VisageError.internalFailure(message: "vector index \(url.lastPathComponent): \(String(cString: message))")
        }
        handle = out
        dimension = Int(visage_faiss_dimension(out))
    }

    deinit { visage_faiss_free(handle) }

    public var count: Int { Int(visage_faiss_count(handle)) }
    public var isApproximate: Bool { visage_faiss_is_approximate(handle) != 0 }

    public func ids() -> [Int64] {
        var ids = [Int64](repeating: 0, count: count)
        ids.withUnsafeMutableBufferPointer { visage_faiss_ids(handle, $0.baseAddress) }
        return ids
    }

    public func add(_ vectors: [Float], ids: [Int64]) throws {
        precondition(vectors.count == ids.count * dimension, "vectors and ids disagree")
        guard !ids.isEmpty else { return }
        var message = [CChar](repeating: 0, count: 256)
        guard visage_faiss_add(handle, Int64(ids.count), vectors, ids, &message, message.count) == 0 else {
            throw VisageError.internalFailure(message: "vector index: \(String(cString: message))")
        }
    }

    public func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]] {
        let n = queries.count / dimension
        guard n > 0, k > 0, count > 0 else { return Array(repeating: [], count: n) }
        var ids = [Int64](repeating: -1, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        var message = [CChar](repeating: 0, count: 256)
        guard visage_faiss_search(handle, Int64(n), queries, Int32(k), Int32(searchDepth), &ids, &distances,
                                  &message, message.count) == 0
        else { throw VisageError.internalFailure(message: "vector index: \(String(cString: message))") }
        return (0..<n).map { row in
            (0..<k).compactMap { column in
                let id = ids[row * k + column]
                return id < 0 ? nil : VectorMatch(id: id, distance: max(0, distances[row * k + column]).squareRoot())
            }
        }
    }

    public func write(to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        var message = [CChar](repeating: 0, count: 256)
        guard visage_faiss_write(handle, temporary.path, &message, message.count) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw VisageError.internalFailure(message: "vector index: \(String(cString: message))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw VisageError.internalFailure(message: "vector index: cannot move into place \(url.lastPathComponent)")
        }
    }
}
