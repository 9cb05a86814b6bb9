import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageStore

/// S3's XML bodies and the values inside them; element helpers and the time format are OSS's,
/// which S3 shares.
enum S3XML {
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// `"lower-hex-md5"` (`"hex-N"` for objects made of parts), as S3 writes ETags.
    static func etag(_ hex: String) -> String { "\"\(hex.lowercased())\"" }

    /// `x-amz-id-2`: an opaque host id; this server has one host, so it names the request.
    static func hostID(_ requestID: String) -> String { Data(requestID.utf8).base64EncodedString() }

    /// A response document whose root element carries S3's namespace.
    static func response(_ call: S3Call, root: String, _ inner: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = call.responseHeaders()
        headers[.contentType] = "application/xml"
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root) xmlns=\"\(namespace)\">\(inner)</\(root)>"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func empty(_ call: S3Call, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = call.responseHeaders()
        for field in extra { headers[field.name] = field.value }
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }

    /// How keys and prefixes are written: percent-encoded for `encoding-type=url`, else as is.
    static func keyText(_ call: S3Call) -> @Sendable (String) -> String { OSSXML.keyText(call.base) }

    static func encodingType(_ call: S3Call) -> String { OSSXML.encodingType(call.base) }

    static func owner(_ account: String) -> String {
        "<Owner><ID>\(account)</ID><DisplayName>\(account)</DisplayName></Owner>"
    }

    /// One `<Contents>` or `<Part>`-like entry's shared fields.
    static func entry(key: String, info: ObjectInfo, owner: String) -> String {
        OSSXML.element("Key", key) + "<LastModified>\(OSSXML.time(info.lastModified))</LastModified>"
            + "<ETag>\(XML.escape(etag(info.etag)))</ETag><Size>\(info.size)</Size><StorageClass>STANDARD</StorageClass>\(owner)"
    }
}
