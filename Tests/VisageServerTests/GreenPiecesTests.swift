import Foundation
import Testing
import VisageCore
import VisageJobs
import VisageMedia
@testable import VisageServer
import VisageSigning

@Suite("Content Moderation pieces")
struct GreenPiecesTests {
    @Test("SM3 gives the standard's published digests (GB/T 32905-2016, examples 1 and 2)")
    func sm3Vectors() {
        #expect(GreenCallbacks.sm3(Array("abc".utf8)).hexString
            == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        #expect(GreenCallbacks.sm3(Array(String(repeating: "abcd", count: 16).utf8)).hexString
            == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    }

    @Test("a callback's checksum covers the account id, the seed and the content, in SHA-256 or SM3")
    func checksum() {
        #expect(GreenCallbacks.checksum("1234" + "seed" + "{}", cryptType: "SHA256")
            == "\(Array("1234seed{}".utf8).sha256Hex)")
        #expect(GreenCallbacks.checksum("1234seed{}", cryptType: "SM3") == GreenCallbacks.sm3(Array("1234seed{}".utf8)).hexString)
    }

    @Test("rates map to pass, review and block at 60 and 40, and labels at the same-person boundary")
    func bands() {
        func result(_ similarity: Double) -> [String: any Sendable] {
            GreenResults.sceneResult(PairSimilarity(similarity: similarity, distance: 0, faces: [1, 1]))
        }
        #expect(result(0.6)["suggestion"] as? String == "pass")
        #expect(result(0.5999)["suggestion"] as? String == "review")
        #expect(result(0.4)["suggestion"] as? String == "review")
        #expect(result(0.3999)["suggestion"] as? String == "block")
        #expect(result(0.5)["label"] as? String == "same")
        #expect(result(0.4999)["label"] as? String == "different")
        #expect(result(0.123456)["rate"] as? Double == 12.35)
    }

    @Test("each failure has its own code, naming the image it is about")
    func failureCodes() {
        #expect(GreenResults.code(for: .fetch(image: 1, .refusedAddress(host: "10.0.0.1"))).0 == .notAllowed)
        #expect(GreenResults.code(for: .fetch(image: 2, .timedOut(seconds: 3))).0 == .downloadTimeout)
        #expect(GreenResults.code(for: .fetch(image: 2, .status(404))).0 == .notFound)
        #expect(GreenResults.code(for: .fetch(image: 1, .tooLarge(limit: 10))).0 == .downloadFailed)
        #expect(GreenResults.code(for: .image(image: 1, .unsupportedFormat)).0 == .badFormat)
        let (code, detail) = GreenResults.code(for: .noFace(image: 2))
        #expect(code == .badRequest && detail.hasPrefix("extras.faceUrl"))
    }

    @Test("the call limit admits a second's allowance at once, then one call per refill")
    func callLimit() {
        let limit = CallRateLimit(perSecond: 5)
        let start = ContinuousClock.now
        #expect((0..<5).allSatisfy { _ in limit.admit("a", now: start) })
        #expect(!limit.admit("a", now: start))
        #expect(limit.admit("b", now: start))
        #expect(limit.admit("a", now: start + .milliseconds(200)))
        #expect(!limit.admit("a", now: start + .milliseconds(250)))
    }
}

extension Array where Element == UInt8 {
    fileprivate var sha256Hex: String { SigningText.sha256Hex(self) }
}
