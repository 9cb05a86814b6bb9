import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageStore

/// The bucket and object operations of the OSS API over the object store. Each parses its
/// request, authorizes the matching `oss:` action, calls the store once and encodes OSS's XML.
struct OSSOperations: Sendable {
    let objects: any ObjectStore
    let maxObjectBytes: Int64

    /// Runs the operation the router matched.
    func perform(_ operation: OSSOperation, _ call: ObjectCall) async throws -> Response {
        switch operation {
        case .listBuckets: return try await listBuckets(call)
        case .putBucket: return try await putBucket(call)
        case .deleteBucket: return try await deleteBucket(call)
        case .getBucketInfo: return try await getBucketInfo(call)
        case .getBucketLocation: return try await getBucketLocation(call)
        case .getBucketACL: return try await getBucketACL(call)
        case .putBucketACL: return try await putBucketACL(call)
        case .putBucketCORS: return try await putBucketCORS(call)
        case .getBucketCORS: return try await getBucketCORS(call)
        case .deleteBucketCORS: return try await deleteBucketCORS(call)
        case .listObjects: return try await listObjects(call)
        case .deleteMultipleObjects: return try await deleteMultipleObjects(call)
        case .listMultipartUploads: return try await listMultipartUploads(call)
        case .putObject: return try await putObject(call)
        case .copyObject: return try await copyObject(call)
        case .getObject: return try await getObject(call, head: false)
        case .headObject: return try await getObject(call, head: true)
        case .getObjectMeta: return try await getObjectMeta(call)
        case .deleteObject: return try await deleteObject(call)
        case .getObjectACL: return try await getObjectACL(call)
        case .putObjectACL: return try await putObjectACL(call)
        case .getObjectTagging: return try await getObjectTagging(call)
        case .putObjectTagging: return try await putObjectTagging(call)
        case .deleteObjectTagging: return try await deleteObjectTagging(call)
        case .initiateMultipartUpload: return try await initiateMultipartUpload(call)
        case .uploadPart: return try await uploadPart(call)
        case .uploadPartCopy: return try await uploadPartCopy(call)
        case .listParts: return try await listParts(call)
        case .completeMultipartUpload: return try await completeMultipartUpload(call)
        case .abortMultipartUpload: return try await abortMultipartUpload(call)
        }
    }

    /// Content type, `x-oss-meta-*`, `Content-MD5`, `x-oss-object-acl` and `x-oss-tagging` of a
    /// new object or part.
    func attributes(from headers: HTTPFields) throws -> ObjectAttributes {
        try ObjectBodies.attributes(headers, metaPrefix: "x-oss-meta-", acl: "x-oss-object-acl", tagging: "x-oss-tagging",
                                    defaultType: "application/octet-stream", maxBytes: maxObjectBytes, readACL: OSSACL.objectACL)
    }

    /// Reads a small XML request body with the root element `root`, or fails with MalformedXML.
    func xmlBody(_ call: ObjectCall, root: String, limit: Int = 2 * 1024 * 1024) async throws -> OSSXMLReader.Element {
        guard let document = OSSXMLReader.parse(try await call.request.collectBody(upTo: limit)), document.name == root else {
            throw WireError(status: .badRequest, code: "MalformedXML", message: "The XML you provided was not well-formed.")
        }
        return document
    }
}

/// OSS's canned access rules on the wire.
enum OSSACL {
    /// An object's rule from `x-oss-object-acl`; `default` means "follow the bucket" (nil).
    static func objectACL(_ text: String) throws -> CannedACL? {
        if text == "default" { return nil }
        guard let acl = CannedACL(rawValue: text) else { throw invalid(text) }
        return acl
    }

    static func bucketACL(_ text: String) throws -> CannedACL {
        guard let acl = CannedACL(rawValue: text) else { throw invalid(text) }
        return acl
    }

    static func invalid(_ text: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidArgument",
                  message: "The ACL \(text) is not one of private, public-read, public-read-write (or default for an object).")
    }

    static func body(owner: String, grant: String) -> String {
        "<AccessControlPolicy><Owner><ID>\(owner)</ID><DisplayName>\(owner)</DisplayName></Owner>"
            + "<AccessControlList>" + OSSXML.element("Grant", grant) + "</AccessControlList></AccessControlPolicy>"
    }
}
