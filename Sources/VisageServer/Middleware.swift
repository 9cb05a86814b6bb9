import Foundation
import HTTPTypes
import Hummingbird
import Logging
import VisageCore

/// The envelope around every request: gives it an id (response header `x-visage-request-id`,
/// logger metadata) and its dialect, turns every error into a response in the dialect's own
/// error format, then records metrics and one access-log line with the final status.
struct RequestEnvelopeMiddleware: RouterMiddleware {
    typealias Context = VisageContext
    let metrics: HTTPMetrics
    let dialects: DialectRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = Identifiers.requestID()
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        context.dialect = dialects.classify(RequestHead(
            method: request.method, path: request.uri.path,
            query: request.uri.queryParameters.reduce(into: [:]) { $0[String($1.key)] = String($1.value) },
            headers: request.headers))
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let wire = context.dialect.wireError(error)
            if wire.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            response = context.dialect.render(wire, for: request, requestID: context.requestID)
        }
        response.headers[.visageRequestID] = context.requestID
        let elapsed = ContinuousClock.now - start
        // Dialect handlers name their operation in the endpoint path (e.g. `rpc:AssumeRole`).
        let operation = context.endpointPath ?? context.dialect.name
        metrics.record(route: operation, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "route": "\(operation)",
            "status": "\(response.status.code)", "duration_ms": "\(elapsed.milliseconds)",
        ])
        return response
    }
}

/// Hands each request to its dialect, which answers it or sends it on to the router.
struct DialectDispatchMiddleware: RouterMiddleware {
    typealias Context = VisageContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await context.dialect.respond(to: request, context: context, next: next)
    }
}

extension HTTPField.Name {
    static let visageRequestID = HTTPField.Name("x-visage-request-id")!
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
