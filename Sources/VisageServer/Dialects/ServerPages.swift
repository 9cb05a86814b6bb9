import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The server's own pages and API: `/healthz`, `/metrics`, the web UI under `/ui/` (a browser's
/// plain `GET /` is sent there) and `/visage/...`. Served by the router; errors are Visage's JSON.
struct ServerPages: Dialect {
    let name = "visage"
    let recognition = Recognition(
        pathPrefixes: ["healthz", "metrics", "ui", "favicon.ico", "visage"],
        root: { head in (head.method == .get || head.method == .head) && head.headers[.authorization] == nil })

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        if request.uri.path == "/" {
            return Response.redirect(to: "/ui/", type: .found)
        }
        return try await next(request, context)
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError {
        WireError(status: .forbidden, code: "AccessDenied", message: "The request's credentials were refused.")
    }

    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        ErrorBody.json(["error": ["code": error.code, "message": error.message, "requestId": requestID]], status: error.status,
                       headers: [.contentType: "application/json"])
    }
}

/// Helpers for writing error bodies.
enum ErrorBody {
    static func json(_ value: Any, status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
