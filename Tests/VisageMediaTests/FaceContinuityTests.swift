import Foundation
import Testing
import VisageCore
@testable import VisageMedia

@Suite("Faces kept through re-indexing")
struct FaceContinuityTests {
    typealias Box = FaceContinuity.Box

    static func earlier(_ id: String, _ box: Box, cluster: String? = nil, pinned: Bool = false) -> FaceContinuity.Earlier {
        FaceContinuity.Earlier(figureID: id, box: box, cluster: cluster, pinned: pinned)
    }

    @Test("overlap is intersection over union")
    func overlap() {
        let box = Box(left: 0, top: 0, width: 100, height: 100)
        #expect(box.overlap(box) == 1)
        #expect(box.overlap(Box(left: 50, top: 0, width: 100, height: 100)) == 5000.0 / 15000.0)
        #expect(box.overlap(Box(left: 100, top: 0, width: 100, height: 100)) == 0)
        let figure = JSONValue.object(["FigureId": .string("f"), "Boundary": .object([
            "Left": .number(3), "Top": .number(4), "Width": .number(50), "Height": .number(60)])])
        #expect(Box(figure: figure) == Box(left: 3, top: 4, width: 50, height: 60))
        #expect(Box(figure: .object(["Boundary": .object(["Left": .number(1)])])) == nil)
    }

    @Test("each new face takes the earlier face it overlaps most, at least half, each earlier face once")
    func matching() {
        let left = Self.earlier("a", Box(left: 0, top: 0, width: 100, height: 100), cluster: "Cluster-1", pinned: true)
        let right = Self.earlier("b", Box(left: 300, top: 0, width: 100, height: 100), cluster: "Cluster-2")
        let boxes: [Box?] = [
            Box(left: 305, top: 2, width: 100, height: 98), // b, a little moved
            Box(left: 10, top: 0, width: 100, height: 100), // a
            Box(left: 0, top: 0, width: 100, height: 100), // a exactly: wins a over the one above
            Box(left: 600, top: 0, width: 100, height: 100), // nobody's
            nil, // a figure without a box
        ]
        let matched = FaceContinuity.match(boxes, earlier: [left, right])
        #expect(matched == [0: right, 2: left])
        // A box that overlaps less than half starts afresh.
        #expect(FaceContinuity.match([Box(left: 60, top: 0, width: 100, height: 100)], earlier: [left]).isEmpty)
    }

    @Test("a face's vector id changes with its embedding")
    func vectorIDs() {
        let one: [Float] = [0.1, 0.2, 0.3]
        let other: [Float] = [0.1, 0.2, 0.30001]
        #expect(FaceVectors.vectorID("f", embedding: one[...]) == FaceVectors.vectorID("f", embedding: one[...]))
        #expect(FaceVectors.vectorID("f", embedding: one[...]) != FaceVectors.vectorID("f", embedding: other[...]))
        #expect(FaceVectors.vectorID("f", embedding: one[...]) != FaceVectors.vectorID("g", embedding: one[...]))
        #expect(FaceVectors.vectorID("f", embedding: one[...]) >= 0)
    }
}
