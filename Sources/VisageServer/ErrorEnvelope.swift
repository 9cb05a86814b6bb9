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
            case let .invalidArgument(field, message):
                self.init(status: .badRequest, code: "InvalidParameter", message: "\(field): \(message)")
            case .notFound:
                self.init(status: .notFound, code: "NotFound", message: core.description)
            case .conflict, .inUse:
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
            }
        case let tooMany as NIOTooManyBytesError:
            self.init(status: .contentTooLarge, code: "EntityTooLarge",
                      message: "The request body is larger than \(tooMany.maxBytes.map(String.init) ?? "the limit") bytes.")
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

/// The error body format of each dialect, so a client's SDK can parse what it receives.
public enum ErrorEnvelope: Sendable {
    case visage
    case alibaba
    case oss
    case rekognition
    case azure

    public init(route: RouteKind) {
        switch route {
        case .alibabaRPC, .green: self = .alibaba
        case .objectAPI: self = .oss
        case .rekognition: self = .rekognition
        case .azureFace: self = .azure
        case .operations, .webUI, .redirectToUI, .visageAPI, .notFound: self = .visage
        }
    }

    /// `method` HEAD: the response has no body, so OSS errors travel base64-encoded in `x-oss-err`.
    public func response(_ error: WireError, requestID: String, host: String = "localhost",
                         method: HTTPRequest.Method = .get) -> Response {
        var headers = HTTPFields()
        let body: String
        switch self {
        case .visage:
            headers[.contentType] = "application/json"
            body = Self.json(["error": ["code": error.code, "message": error.message, "requestId": requestID]])
        case .alibaba:
            headers[.contentType] = "application/json;charset=utf-8"
            body = Self.json(["RequestId": requestID, "HostId": host, "Code": error.code, "Message": error.message,
                              "Recommend": ""])
        case .oss:
            headers[.contentType] = "application/xml"
            headers[HTTPField.Name("x-oss-request-id")!] = requestID
            body = """
                <?xml version="1.0" encoding="UTF-8"?>
                <Error><Code>\(XML.escape(error.code))</Code><Message>\(XML.escape(error.message))</Message>\
                <RequestId>\(requestID)</RequestId><HostId>\(XML.escape(host))</HostId></Error>
                """
            if method == .head {
                headers[HTTPField.Name("x-oss-err")!] = Data(body.utf8).base64EncodedString()
            }
        case .rekognition:
            headers[.contentType] = "application/x-amz-json-1.1"
            headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
            body = Self.json(["__type": error.code, "message": error.message])
        case .azure:
            headers[.contentType] = "application/json; charset=utf-8"
            headers[HTTPField.Name("apim-request-id")!] = requestID
            body = Self.json(["error": ["code": error.code, "message": error.message]])
        }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
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
