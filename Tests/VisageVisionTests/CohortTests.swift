import Testing
import VisageVision

@Suite("Judging a pair against a cohort")
struct CohortTests {
    /// A point on the first axis of a 2-d space.
    func face(_ x: Float, _ y: Float = 0) -> [Float] { [x, y] }

    @Test("every cohort person weighs alike, however many photos each has")
    func peopleWeighAlike() throws {
        // One person with 20 photos at distance 1 from the face, one with 2 photos at distance 3.
        let cohort = Cohort(Array(repeating: ("many", face(1)), count: 20) + Array(repeating: ("few", face(3)), count: 2))
        let typical = try #require(cohort.typicalDistance(of: face(0)))
        #expect(typical.mean == 2)
        // Fewer people than the nearest-people count: all of them are the nearest.
        #expect(typical.nearest == 2)
    }

    @Test("the nearest people are the closest by their mean distance")
    func nearestPeople() throws {
        let near = (0..<5).map { ("near\($0)", face(0.5)) }
        let far = (0..<15).map { ("far\($0)", face(2)) }
        let typical = try #require(Cohort(far + near).typicalDistance(of: face(0)))
        #expect(typical.nearest == 0.5)
        #expect(abs(typical.mean - (5 * 0.5 + 15 * 2) / 20) < 1e-12)
    }

    @Test("the two people compared are left out, and too small a cohort judges nothing")
    func exclusionAndMinimum() throws {
        let others = (0..<10).map { ("other\($0)", face(2)) }
        let cohort = Cohort(others + [("alice", face(0.1))])
        #expect(try #require(cohort.typicalDistance(of: face(0), excluding: ["alice"])).mean == 2)
        #expect(cohort.typicalDistance(of: face(0), excluding: ["alice", "other0"]) == nil)
        // Without a usable cohort the score is the plain distance's.
        let small = Cohort(Array(others.prefix(3)))
        #expect(FaceComparison.score(face(0), face(0.3), cohort: small) == FaceComparison.score(face(0), face(0.3)))
    }

    @Test("a pair must be close, and close against other people on average and nearby")
    func decision() {
        let ceiling = FaceComparison.cohortDistanceCeiling
        let loose = Cohort.Typical(mean: 10, nearest: 10)
        // Far from everyone else: the ceiling decides.
        #expect(FaceComparison.score(distance: ceiling * 0.99, typical: loose) < 1)
        #expect(FaceComparison.score(distance: ceiling * 1.01, typical: loose) > 1)
        // Other people close on average: the share of the mean decides.
        let mean = 0.5, tight = Cohort.Typical(mean: mean, nearest: 10)
        #expect(FaceComparison.score(distance: FaceComparison.cohortRelativeLimit * mean * 0.99, typical: tight) < 1)
        #expect(FaceComparison.score(distance: FaceComparison.cohortRelativeLimit * mean * 1.01, typical: tight) > 1)
        #expect(abs(FaceComparison.similarity(score: FaceComparison.score(atSimilarity: 0.7)) - 0.7) < 1e-12)
        #expect(FaceComparison.similarity(score: 1) == 0.5)
    }

    @Test("look-alikes stay apart in a cohort that mixes a tight population with a far one")
    func mixedCohort() {
        // Five people like the pair about 0.35 away, twenty of another population 2 away: on
        // average the cohort is far, but the nearest people show how close different people sit
        // here. A distance of 0.4 is under the ceiling and a small share of the mean, yet more
        // than the nearest people allow.
        let cohort = Cohort((0..<5).map { ("near\($0)", face(0, 0.35)) } + (0..<20).map { ("far\($0)", face(0, 2)) })
        #expect(0.4 < FaceComparison.cohortDistanceCeiling)
        #expect(!FaceComparison.samePerson(face(0), face(0.4), cohort: cohort))
        #expect(FaceComparison.samePerson(face(0), face(0.25), cohort: cohort))
    }
}
