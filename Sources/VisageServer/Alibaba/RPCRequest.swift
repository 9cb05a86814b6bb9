import Foundation
import HTTPTypes
import Hummingbird
import VisageCore

/// An Alibaba Cloud RPC call as it arrives: `Action` and `Version` from the `x-acs-action` /
/// `x-acs-version` headers (ACS3 signing) or from the parameters (V1 signing), and every
/// parameter from the query string and a form-encoded body, `+` read as a space.
public struct RPCRequest: Sendable {
    public let action: String
    public let version: String
    public let parameters: [String: String]
    public let body: [UInt8]
    /// What the signature covers, as received.
    let head: HTTPRequest
    let path: String
    let rawQuery: String

    /// How the call was signed; read once the operation is known to exist.
    func signature() throws -> RPCSignature {
        try RPCSignature.read(method: head.method, authority: head.authority, path: path, rawQuery: rawQuery,
                              headers: head.headerFields, parameters: parameters, body: body)
    }

    /// Reads the call from a request, refusing bodies over `maxBodyBytes`.
    public static func read(_ request: Request, maxBodyBytes: Int) async throws -> RPCRequest {
        let body = try await request.collectBody(upTo: maxBodyBytes)
        var parameters: [String: String] = [:]
        for (key, value) in FormEncoding.decode(request.uri.query ?? "") { parameters[key] = value }
        if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            for (key, value) in FormEncoding.decode(String(decoding: body, as: UTF8.self)) { parameters[key] = value }
        }
        let action = request.headers[HTTPField.Name("x-acs-action")!] ?? parameters["Action"]
        let version = request.headers[HTTPField.Name("x-acs-version")!] ?? parameters["Version"]
        guard let action, !action.isEmpty else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The input parameter \"Action\" that is mandatory for processing this request is not supplied.")
        }
        guard let version, !version.isEmpty else {
            throw WireError(status: .badRequest, code: "MissingParameter", message: "The input parameter \"Version\" that is mandatory for processing this request is not supplied.")
        }
        return RPCRequest(action: action, version: version, parameters: parameters, body: body, head: request.head,
                          path: request.uri.path, rawQuery: request.uri.query ?? "")
    }
}

/// `application/x-www-form-urlencoded` decoding, as Python's `urlencode` produces it.
public enum FormEncoding {
    /// Decodes `a=1&b=x+y` into pairs, in order; malformed percent escapes are kept as written.
    public static func decode(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = unescape(String(parts[0]))
            let value = parts.count > 1 ? unescape(String(parts[1])) : ""
            return (key, value)
        }
    }

    static func unescape(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
