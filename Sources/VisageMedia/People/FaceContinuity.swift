import Foundation
import VisageCore

/// A file indexed again keeps its faces: each face found where an earlier version of the file
/// had one takes over that face's id, person and "placed by a user" mark, so names, confirmed
/// faces and every correction recorded against the id outlive re-indexing (a re-uploaded photo,
/// a new embedding model). A face is "where" an earlier one was when their boxes overlap by at
/// least half (intersection over union); each earlier face is taken once, best overlaps first.
enum FaceContinuity {
    /// A face of the earlier version: its box and what it carries over.
    struct Earlier: Sendable, Equatable {
        let figureID: String
        let box: Box
        let cluster: String?
        let pinned: Bool
    }

    /// A face box in pixels.
    struct Box: Sendable, Equatable {
        let left: Double, top: Double, width: Double, height: Double

        /// The box of a figure document's `Boundary`, if it has one.
        init?(figure: JSONValue) {
            guard let boundary = figure.objectValue?["Boundary"]?.objectValue,
                  let left = boundary["Left"]?.numberValue, let top = boundary["Top"]?.numberValue,
                  let width = boundary["Width"]?.numberValue, let height = boundary["Height"]?.numberValue,
                  width > 0, height > 0
            else { return nil }
            self.init(left: left, top: top, width: width, height: height)
        }

        init(left: Double, top: Double, width: Double, height: Double) {
            (self.left, self.top, self.width, self.height) = (left, top, width, height)
        }

        /// Intersection over union with another box (0 when apart).
        func overlap(_ other: Box) -> Double {
            let across = min(left + width, other.left + other.width) - max(left, other.left)
            let down = min(top + height, other.top + other.height) - max(top, other.top)
            guard across > 0, down > 0 else { return 0 }
            let shared = across * down
            return shared / (width * height + other.width * other.height - shared)
        }
    }

    static let minimumOverlap = 0.5

    /// For each new box (by position) the earlier face it continues, if any.
    static func match(_ boxes: [Box?], earlier: [Earlier]) -> [Int: Earlier] {
        var pairs: [(overlap: Double, new: Int, old: Int)] = []
        for (new, box) in boxes.enumerated() {
            guard let box else { continue }
            for (old, face) in earlier.enumerated() {
                let overlap = box.overlap(face.box)
                if overlap >= minimumOverlap { pairs.append((overlap, new, old)) }
            }
        }
        var matched: [Int: Earlier] = [:]
        var taken: Set<Int> = []
        for pair in pairs.sorted(by: { ($0.overlap, -$0.new, -$0.old) > ($1.overlap, -$1.new, -$1.old) })
        where matched[pair.new] == nil && !taken.contains(pair.old) {
            matched[pair.new] = earlier[pair.old]
            taken.insert(pair.old)
        }
        return matched
    }
}
