import HTTPTypes
import Hummingbird

/// A dialect whose service is not built yet: its requests are recognised (so they never reach
/// another dialect or become bucket names) and refused with 501 in its own error format.
struct UnbuiltDialect: Dialect {
    let name: String
    let recognition: Recognition
    let renderBody: @Sendable (WireError, String) -> Response

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        throw WireError(status: .notImplemented, code: "NotImplemented", message: "This server does not offer the \(name) API yet.")
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError {
        WireError(status: .forbidden, code: "AccessDenied", message: "The request's credentials were refused.")
    }

    func render(_ error: WireError, for request: Request, requestID: String) -> Response { renderBody(error, requestID) }

    /// Azure AI Face under `/face/`.
    static let azureFace = UnbuiltDialect(name: "azure-face", recognition: Recognition(pathPrefixes: ["face"])) { error, requestID in
        ErrorBody.json(["error": ["code": error.code, "message": error.message]], status: error.status,
                       headers: [.contentType: "application/json; charset=utf-8", HTTPField.Name("apim-request-id")!: requestID])
    }
}
