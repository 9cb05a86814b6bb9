import Crypto
import CSM3
import Foundation
import HTTPTypes
import VisageCore
import VisageJobs
import VisageMedia
import VisageSigning

/// Content Moderation's business codes (`code`/`msg` of the envelope and of each task).
enum GreenCode: Int, Sendable {
    case ok = 200
    case processing = 280
    case badRequest = 400
    case notAllowed = 401
    case forbidden = 403
    case notFound = 404
    case downloadFailed = 480
    case generalError = 500
    case timeout = 581
    case exceedQuota = 588
    case badFormat = 590
    case downloadTimeout = 592
    case expired = 594

    var msg: String {
        switch self {
        case .ok: "OK"
        case .processing: "PROCESSING"
        case .badRequest: "BAD_REQUEST"
        case .notAllowed: "NOT_ALLOWED"
        case .forbidden: "FORBIDDEN"
        case .notFound: "NOT_FOUND"
        case .downloadFailed: "DOWNLOAD_FAILED"
        case .generalError: "GENERAL_ERROR"
        case .timeout: "TIMEOUT"
        case .exceedQuota: "EXCEED_QUOTA"
        case .badFormat: "BAD_FORMAT"
        case .downloadTimeout: "DOWNLOAD_TIMEOUT"
        case .expired: "EXPIRED"
        }
    }

    /// A whole-request failure in the service's envelope (rendered by `GreenDialect`).
    func error(_ detail: String, status: HTTPResponse.Status = .badRequest) -> WireError {
        WireError(status: status, code: String(rawValue), message: "\(msg): \(detail)")
    }
}

/// What one finished, pending or unknown comparison looks like on the wire: one `data[]` item of
/// `/green/image/results` (and of `/green/image/scan`, and the content of a callback).
enum GreenResults {
    static let scene = "sface-1"
    /// Suggestion bands over the rate (similarity × 100, 50 at the engine's same-person boundary):
    /// `pass` at or above 60, `review` from 40 to 60, `block` below 40.
    static let passAt = 60.0
    static let blockBelow = 40.0

    /// What a task carries besides its result, as the caller sent it.
    struct Reference: Codable, Sendable {
        var dataId: String?
        var url: String
        var extras: [String: String]
    }

    static func item(code: GreenCode, detail: String? = nil, taskID: String?, reference: Reference?) -> [String: any Sendable] {
        var item: [String: any Sendable] = ["code": code.rawValue, "msg": detail.map { "\(code.msg): \($0)" } ?? code.msg]
        if let taskID { item["taskId"] = taskID }
        if let reference {
            if let dataID = reference.dataId { item["dataId"] = dataID }
            item["url"] = reference.url
            if !reference.extras.isEmpty { item["extras"] = reference.extras }
        }
        return item
    }

    static func reference(of record: ComparisonRecord) -> Reference? {
        try? JSONDecoder().decode(Reference.self, from: Data(record.reference.utf8))
    }

    /// A kept comparison: still running, expired, or its outcome.
    static func item(_ record: ComparisonRecord) -> [String: any Sendable] {
        switch record.state {
        case .pending: item(code: .processing, taskID: record.id, reference: reference(of: record))
        case .expired: item(code: .expired, taskID: record.id, reference: reference(of: record))
        case let .finished(outcome): item(outcome, taskID: record.id, reference: reference(of: record))
        }
    }

    static func item(_ outcome: ComparisonOutcome, taskID: String?, reference: Reference?) -> [String: any Sendable] {
        switch outcome {
        case let .compared(result):
            var item = item(code: .ok, taskID: taskID, reference: reference)
            item["results"] = [sceneResult(result)]
            return item
        case let .failed(failure):
            let (code, detail) = code(for: failure)
            return item(code: code, detail: detail, taskID: taskID, reference: reference)
        }
    }

    /// `{scene, label, suggestion, rate}`: `label` is `same` at or above the boundary, else
    /// `different`; `rate` has two decimals.
    static func sceneResult(_ result: PairSimilarity) -> [String: any Sendable] {
        let rate = (result.similarity * 10000).rounded() / 100
        let suggestion = rate >= passAt ? "pass" : rate < blockBelow ? "block" : "review"
        return ["scene": scene, "label": result.samePerson ? "same" : "different", "suggestion": suggestion, "rate": rate]
    }

    /// Each failure's code, with a message naming the image (`url` is 1, `extras.faceUrl` is 2).
    static func code(for failure: ComparisonFailure) -> (GreenCode, String) {
        func name(_ image: Int) -> String { image == 1 ? "url" : "extras.faceUrl" }
        switch failure {
        case let .fetch(image, problem):
            let detail = "\(name(image)): \(problem)"
            switch problem {
            case .badURL: return (.badRequest, detail)
            case .refusedAddress: return (.notAllowed, detail)
            case .timedOut: return (.downloadTimeout, detail)
            case .status(404): return (.notFound, detail)
            case .status(401), .status(403): return (.forbidden, detail)
            case .unresolvable, .unreachable, .tooLarge, .status, .tooManyRedirects: return (.downloadFailed, detail)
            }
        case let .objectMissing(image): return (.notFound, "\(name(image)): the object does not exist")
        case let .image(image, problem):
            switch problem {
            case .tooLarge, .tooManyPixels: return (.downloadFailed, "\(name(image)): \(problem)")
            case .empty, .unsupportedFormat, .corrupt: return (.badFormat, "\(name(image)): \(problem)")
            }
        case let .noFace(image): return (.badRequest, "\(name(image)): no face was found in the image")
        case .timedOut: return (.timeout, "the comparison did not finish within the time a synchronous scan waits")
        case let .internalError(message): return (.generalError, message)
        }
    }
}

/// Callbacks of Content Moderation: a form POST of `checksum` and `content`, where `content` is
/// the task's result item as JSON and `checksum` the lower-case hex SHA-256 (or SM3) of the
/// account id, the caller's seed and `content`, concatenated.
struct GreenCallbacks: ComparisonEventFormat {
    /// What the dialect keeps with a callback.
    struct Data: Codable {
        let seed: String
        let cryptType: String
    }

    func callback(_ record: ComparisonRecord, outcome: ComparisonOutcome, data: String) -> (contentType: String, body: String) {
        let settings = (try? JSONDecoder().decode(Data.self, from: Foundation.Data(data.utf8))) ?? Data(seed: "", cryptType: "SHA256")
        let content = (try? ResponseJSON.data(GreenResults.item(outcome, taskID: record.id, reference: GreenResults.reference(of: record))))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let checksum = Self.checksum(record.accountID + settings.seed + content, cryptType: settings.cryptType)
        let body = "checksum=\(Self.formEncode(checksum))&content=\(Self.formEncode(content))"
        return ("application/x-www-form-urlencoded; charset=UTF-8", body)
    }

    static func checksum(_ text: String, cryptType: String) -> String {
        cryptType == "SM3" ? sm3(Array(text.utf8)).hexString : SHA256.hash(data: Array(text.utf8)).hexString
    }

    static func sm3(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let status = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { visage_sm3(input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(status == 0, "this OpenSSL offers no SM3")
        return digest
    }

    /// `application/x-www-form-urlencoded` as browsers and Python's `urlencode` write it.
    static func formEncode(_ text: String) -> String {
        SigningText.percentEncode(text)
    }
}
