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

    /// Rekognition (AWS JSON 1.1), marked by `X-Amz-Target`.
    static let rekognition = UnbuiltDialect(name: "rekognition", recognition: Recognition(header: HTTPField.Name("X-Amz-Target")!)) {
        error, requestID in
        ErrorBody.json(["__type": error.code, "message": error.message], status: error.status,
                       headers: [.contentType: "application/x-amz-json-1.1", HTTPField.Name("x-amzn-RequestId")!: requestID])
    }
}
