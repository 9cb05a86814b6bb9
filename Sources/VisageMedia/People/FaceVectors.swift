import Crypto
import Foundation
import VisageCore
import VisageStore

/// The face embeddings of one dataset in a nearest-neighbour index, saved beside the database
/// (`vectors/<dataset hash>.faiss`) and brought up to date from the face rows on each use:
/// faces added since are added; a missing or unreadable file, or one where deleted faces have
/// piled up, is rebuilt.
public struct FaceVectors {
    public let index: any VectorIndex
    /// Index ids of the live faces → their positions in the face list.
    let positions: [Int64: Int]
    let embeddings: [Float]
    let dimension: Int
    /// Whether the file has to be written back (anything was added or rebuilt).
    public let changed: Bool

    /// The index id of a face: the first 8 bytes of SHA-256 of its figure id mixed with an
    /// FNV-1a checksum of its embedding, non-negative. A face that keeps its id through
    /// re-indexing with a changed embedding (another model, an edited photo) is then a new
    /// vector, and its old one a deleted face.
    public static func vectorID(_ figureID: String, embedding: ArraySlice<Float>) -> Int64 {
        let digest = Array(SHA256.hash(data: Data(figureID.utf8)))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        for number in embedding { checksum = (checksum ^ UInt64(number.bitPattern)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: (value ^ checksum) & UInt64(Int64.max))
    }

    static func file(in directory: URL, dataset: DatasetKey) -> URL {
        let name = SHA256.hash(data: Data(dataset.description.utf8)).prefix(16).hexString
        return directory.appendingPathComponent("\(name).faiss")
    }

    /// Opens (or rebuilds) the index of `ids`/`embeddings` (row-major, `dimension` wide).
    public static func open(file: URL, ids: [Int64], embeddings: [Float], dimension: Int,
                     approximateFrom: Int = FaissVectorIndex.defaultApproximateFrom) throws -> FaceVectors {
        let positions = Dictionary(ids.enumerated().map { ($1, $0) }) { first, _ in first }
        var index: (any VectorIndex)?
        if let saved = try? FaissVectorIndex(contentsOf: file), saved.dimension == dimension {
            let stored = saved.ids()
            let stale = stored.filter { positions[$0] == nil }.count
            // A flat index that has outgrown exact search, or one much of deleted faces, is rebuilt.
            let outgrown = !saved.isApproximate && ids.count >= approximateFrom
            if stale * 5 <= max(ids.count, 1), !outgrown { index = saved }
        }
        var changed = false
        let target: any VectorIndex
        if let index {
            target = index
        } else {
            let fresh = try FaissVectorIndex(dimension: dimension, expected: ids.count, approximateFrom: approximateFrom)
            if fresh.needsTraining {
                // k-means on an evenly spread sample of about 40 vectors a cell (FAISS's
                // lower bound for stable cells): far cheaper than training on every face.
                let cells = Int(4 * Double(ids.count).squareRoot())
                let size = min(ids.count, 40 * cells)
                var sample: [Float] = []
                sample.reserveCapacity(size * dimension)
                for draw in 0..<size {
                    let position = draw * ids.count / size
                    sample += embeddings[position * dimension..<(position + 1) * dimension]
                }
                try fresh.train(sample)
            }
            target = fresh
            changed = true
        }
        let present = Set(target.ids())
        let missing = ids.indices.filter { !present.contains(ids[$0]) }
        if !missing.isEmpty {
            var vectors: [Float] = []
            vectors.reserveCapacity(missing.count * dimension)
            for position in missing { vectors += embeddings[position * dimension..<(position + 1) * dimension] }
            try target.add(vectors, ids: missing.map { ids[$0] })
            changed = true
        }
        return FaceVectors(index: target, positions: positions, embeddings: embeddings, dimension: dimension, changed: changed)
    }

    /// The nearest live faces of the faces at `of`, nearest first (deleted faces skipped).
    public func neighbours(of faces: [Int], k: Int) throws -> [[FaceNeighbour]] {
        // A few more than asked, to make up for the face itself and deleted faces.
        let stale = max(0, index.count - positions.count)
        let wanted = k + 1 + min(stale, 16)
        func live(_ matches: [VectorMatch]) -> [FaceNeighbour] {
            Array(matches.compactMap { match in positions[match.id].map { FaceNeighbour(face: $0, distance: match.distance) } }
                .prefix(k + 1))
        }
        var queries: [Float] = []
        queries.reserveCapacity(faces.count * dimension)
        for face in faces { queries += embeddings[face * dimension..<(face + 1) * dimension] }
        return try index.search(queries, k: wanted).map(live)
    }
}
