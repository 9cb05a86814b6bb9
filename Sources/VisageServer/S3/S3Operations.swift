import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageStore

/// The bucket and object operations of the S3 API over the object store. Each parses its
/// request, authorizes the same `oss:` action OSS uses for it (through the shared `ObjectCall`
/// and OSS's read checks), calls the store once and encodes S3's XML.
struct S3Operations: Sendable {
    /// OSS's operations, whose read checks, listings and copy-source rules S3 shares.
    let oss: OSSOperations

    var objects: any ObjectStore { oss.objects }
    var maxObjectBytes: Int64 { oss.maxObjectBytes }

    /// Runs the operation the router matched.
    func perform(_ operation: S3Operation, _ call: S3Call) async throws -> Response {
        switch operation {
        case .listBuckets: return try await listBuckets(call)
        case .createBucket: return try await createBucket(call)
        case .headBucket: return try await headBucket(call)
        case .deleteBucket: return try await deleteBucket(call)
        case .getBucketLocation: return try await getBucketLocation(call)
        case .putBucketCors: return try await putBucketCors(call)
        case .getBucketCors: return try await getBucketCors(call)
        case .deleteBucketCors: return try await deleteBucketCors(call)
        case .listObjects: return try await listObjects(call, version2: false)
        case .listObjectsV2: return try await listObjects(call, version2: call.query["list-type"] == "2")
        case .deleteObjects: return try await deleteObjects(call)
        case .listMultipartUploads: return try await listMultipartUploads(call)
        case .putObject: return try await putObject(call)
        case .copyObject: return try await copyObject(call)
        case .getObject: return try await getObject(call, head: false)
        case .headObject: return try await getObject(call, head: true)
        case .deleteObject: return try await deleteObject(call)
        case .createMultipartUpload: return try await createMultipartUpload(call)
        case .uploadPart: return try await uploadPart(call)
        case .uploadPartCopy: return try await uploadPartCopy(call)
        case .listParts: return try await listParts(call)
        case .completeMultipartUpload: return try await completeMultipartUpload(call)
        case .abortMultipartUpload: return try await abortMultipartUpload(call)
        }
    }

    /// Content type, `x-amz-meta-*`, `Content-MD5`, `x-amz-acl` and `x-amz-tagging` of a new
    /// object or upload.
    func attributes(from headers: HTTPFields) throws -> ObjectAttributes {
        try ObjectBodies.attributes(headers, metaPrefix: "x-amz-meta-", acl: "x-amz-acl", tagging: "x-amz-tagging",
                                    defaultType: "binary/octet-stream", maxBytes: maxObjectBytes) { text in
            guard let canned = CannedACL(rawValue: text) else {
                throw S3Error.invalidArgument("x-amz-acl \(text) is not one of private, public-read, public-read-write.")
            }
            return canned
        }
    }

    /// Reads a small XML request body (checked like any body) with the root element `root`.
    func xmlBody(_ call: S3Call, root: String) async throws -> OSSXMLReader.Element {
        guard let document = OSSXMLReader.parse(try await call.collect()), document.name == root else { throw S3Error.malformedXML }
        return document
    }

    /// A bounded integer query parameter.
    func integer(_ call: S3Call, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try OSSXML.integer(call.query[name], name: name, default: value, range: range)
    }
}
