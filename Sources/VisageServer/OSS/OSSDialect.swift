import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageMedia

/// The OSS object API, path-style: `/<bucket>`, `/<bucket>/<key>`, and requests at `/` signed for
/// objects (ListBuckets). Takes every first path segment no other dialect owns.
struct OSSDialect: Dialect {
    let router: OSSRouter
    let name = "oss"
    let recognition = Recognition(root: { head in
        head.headers[.authorization].map { $0.hasPrefix("OSS") } == true
            || head.query["OSSAccessKeyId"] != nil || head.query["x-oss-signature"] != nil || head.query["x-oss-credential"] != nil
    }, otherPaths: true)

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        // The key stays percent-encoded here: the router decodes it once.
        let (bucket, rawKey) = RequestHead.segments(of: request.uri.path)
        return try await router.respond(to: request, context: context, bucket: bucket.isEmpty ? nil : bucket, rawKey: rawKey,
                                        dialect: self)
    }

    /// The object a URL names when it is a URL of this server (the host and port the caller
    /// reached it at) and a GET of it would be allowed; nil for any other URL.
    func readableObject(_ url: URL, reachedAt authority: String?, sourceIP: String?,
                        requestID: String) async throws -> ImageSource? {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false), let host = components.host?.lowercased(),
              let authority = authority?.lowercased()
        else { return nil }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        let own = authority.contains(":") ? authority : "\(authority):80"
        guard "\(host):\(port)" == own else { return nil }
        let (bucket, key) = try await router.readableObject(
            path: components.percentEncodedPath, query: components.percentEncodedQuery, authority: authority, sourceIP: sourceIP,
            requestID: requestID, dialect: self)
        return .object(bucket: bucket.value, key: key.value)
    }

    func wireError(_ error: any Error) -> WireError { OSSError.wire(error) }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { OSSError.authentication(problem) }

    /// OSS's XML error document; a HEAD response has no body, so it travels base64-encoded in
    /// `x-oss-err` as well.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[HTTPField.Name("x-oss-request-id")!] = requestID
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(XML.escape(error.code))</Code><Message>\(XML.escape(error.message))</Message>\
            <RequestId>\(requestID)</RequestId><HostId>\(XML.escape(request.head.authority ?? "localhost"))</HostId></Error>
            """
        if request.method == .head { headers[HTTPField.Name("x-oss-err")!] = Data(body.utf8).base64EncodedString() }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
