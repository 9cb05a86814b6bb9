import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The S3 REST API, path-style, over the same buckets and objects as OSS. S3 and OSS requests
/// share paths (`/bucket/key`), so S3 is told apart by how a request is signed: an
/// `Authorization: AWS4-HMAC-SHA256 …` header or a presigned `X-Amz-Algorithm`/`X-Amz-Credential`
/// query, on any path and at `/` (ListBuckets). Anonymous requests carry neither and stay with OSS.
struct S3Dialect: Dialect {
    let router: S3Router
    let name = "s3"
    let recognition = Recognition(claims: { head in S3Dialect.isSigned(head) })

    /// Whether a request carries an S3 signature (Version 4, or the legacy Version 2 that boto3
    /// still presigns with by default), in a header or a presigned query.
    static func isSigned(_ head: RequestHead) -> Bool {
        head.headers[.authorization].map { $0.hasPrefix(S3Signature.algorithm + " ") || $0.hasPrefix("AWS ") } == true
            || head.query["X-Amz-Algorithm"] != nil || head.query["X-Amz-Credential"] != nil || head.query["AWSAccessKeyId"] != nil
    }

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        try await router.respond(to: request, context: context, dialect: self)
    }

    func wireError(_ error: any Error) -> WireError { S3Error.wire(error) }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { S3Error.authentication(problem) }

    /// S3's XML error document with the request id headers boto3 reads; a HEAD answer has no body.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.amzRequestID] = requestID
        headers[.amzID2] = S3XML.hostID(requestID)
        if request.method == .head { return Response(status: error.status, headers: headers) }
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(XML.escape(error.code))</Code><Message>\(XML.escape(error.message))</Message>\
            <Resource>\(XML.escape(request.uri.path))</Resource><RequestId>\(requestID)</RequestId>\
            <HostId>\(S3XML.hostID(requestID))</HostId></Error>
            """
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
