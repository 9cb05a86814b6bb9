import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore

/// An error ready to send: status, machine code, human message.
public struct WireError: Error, Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The usual translation of a core error; a dialect may pick its own codes first.
    public init(_ error: any Error) {
        switch error {
        case let wire as WireError:
            self = wire
        case let core as VisageError:
            switch core {
            case let .invalidArgument(field, message), let .malformedPolicy(field, message):
                self.init(status: .badRequest, code: "InvalidParameter", message: "\(field): \(message)")
            case .objectRejected:
                self.init(status: .badRequest, code: "InvalidParameter", message: core.description)
            case .notFound:
                self.init(status: .notFound, code: "NotFound", message: core.description)
            case .conflict, .inUse, .limitExceeded:
                self.init(status: .conflict, code: "Conflict", message: core.description)
            case .forbidden:
                self.init(status: .forbidden, code: "Forbidden", message: core.description)
            case .tooLarge:
                self.init(status: .contentTooLarge, code: "EntityTooLarge", message: core.description)
            case .preconditionFailed:
                self.init(status: .preconditionFailed, code: "PreconditionFailed", message: core.description)
            case .rangeNotSatisfiable:
                self.init(status: .rangeNotSatisfiable, code: "InvalidRange", message: core.description)
            case .internalFailure:
                self.init(status: .internalServerError, code: "InternalError", message: core.description)
            case .unavailable:
                self.init(status: .serviceUnavailable, code: "ServiceUnavailable", message: core.description)
            }
        case is NIOTooManyBytesError:
            // NIO reports its buffer's size, not the endpoint's limit; `collectBody` names the limit.
            self.init(status: .contentTooLarge, code: "EntityTooLarge", message: "The request body is larger than this endpoint accepts.")
        case let http as HTTPError:
            let code = switch http.status {
            case .notFound: "NotFound"
            case .contentTooLarge: "EntityTooLarge"
            case .methodNotAllowed: "MethodNotAllowed"
            default: http.status.code < 500 ? "BadRequest" : "InternalError"
            }
            self.init(status: http.status, code: code, message: http.body ?? http.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "InternalError", message: "The request processing has failed due to some unknown error.")
        }
    }
}

/// XML text escaping for the few XML bodies the server writes by hand.
public enum XML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
