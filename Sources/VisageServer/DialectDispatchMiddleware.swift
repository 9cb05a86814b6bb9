import Hummingbird

/// Sends each request to its dialect by the route kind the envelope found; requests for the
/// server's own pages (operations, web UI) go on to the router.
struct DialectDispatchMiddleware: RouterMiddleware {
    typealias Context = VisageContext
    let rpc: RPCRouter
    let oss: OSSRouter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch context.route {
        case .operations, .webUI, .visageAPI, .notFound:
            return try await next(request, context)
        case .redirectToUI:
            return Response.redirect(to: "/ui/", type: .found)
        case .alibabaRPC:
            return try await rpc.respond(to: request, context: context)
        case let .objectAPI(bucket, rawKey):
            return try await oss.respond(to: request, context: context, bucket: bucket, rawKey: rawKey)
        case .green, .rekognition, .azureFace:
            throw WireError(status: .notImplemented, code: "NotImplemented",
                            message: "This server does not offer the \(context.route.label) API.")
        }
    }
}
