import Foundation
import HTTPTypes
import Hummingbird
import VisageCore
import VisageSigning
import VisageStore

/// Multipart uploads, authorized as OSS authorizes them: PutObject, except listing parts and
/// aborting. A completed upload's ETag is the MD5 of the parts' MD5s and the part count.
extension S3Operations {
    func createMultipartUpload(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let upload = try await objects.initiateMultipartUpload(bucket: name, key: key, attributes: try attributes(from: call.headers))
        return S3XML.response(call, root: "InitiateMultipartUploadResult",
                              OSSXML.element("Bucket", name.value) + OSSXML.element("Key", key.value) + OSSXML.element("UploadId", upload.id))
    }

    func uploadPart(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let part = try await objects.uploadPart(call.query["uploadId"] ?? "", bucket: name, key: key, number: try partNumber(call),
                                                attributes: try attributes(from: call.headers), body: try call.body())
        return S3XML.empty(call, headers: [.eTag: S3XML.etag(part.etag)])
    }

    /// UploadPartCopy: a part whose bytes are another object's (or the range of them
    /// `x-amz-copy-source-range: bytes=first-last` names).
    func uploadPartCopy(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let (sourceBucket, sourceKey) = try copySource(call)
        _ = try await oss.readable(call.base, bucket: sourceBucket, key: sourceKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        var range: ByteRange?
        if let text = call.headers[HTTPField.Name("x-amz-copy-source-range")!] {
            guard let parsed = OSSConditions.range(text), case .from(_, .some) = parsed else {
                throw S3Error.invalidArgument("x-amz-copy-source-range must be bytes=first-last.")
            }
            range = parsed
        }
        let source = try await objects.getObject(bucket: sourceBucket, key: sourceKey, range: range)
        let part = try await objects.uploadPart(call.query["uploadId"] ?? "", bucket: name, key: key, number: try partNumber(call),
                                                attributes: ObjectAttributes(maxBytes: maxObjectBytes), body: source.body)
        return S3XML.response(call, root: "CopyPartResult",
                              "<LastModified>\(OSSXML.time(part.lastModified))</LastModified><ETag>\(XML.escape(S3XML.etag(part.etag)))</ETag>")
    }

    func partNumber(_ call: S3Call) throws -> Int {
        guard let number = Int(call.query["partNumber"] ?? ""), (1...10_000).contains(number) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
        }
        return number
    }

    func listParts(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let bucket = try await objects.bucket(name)
        try call.base.authorize("oss:ListParts", bucket: bucket, bucketName: name.value, key: key.value)
        let uploadID = call.query["uploadId"] ?? ""
        let marker = try integer(call, "part-number-marker", default: 0, range: 0...10_000)
        let maxParts = try integer(call, "max-parts", default: 1000, range: 1...1000)
        let all = try await objects.parts(of: uploadID, bucket: name, key: key).filter { $0.number > marker }
        let page = all.prefix(maxParts)
        let text = S3XML.keyText(call)
        var body = OSSXML.element("Bucket", name.value) + OSSXML.element("Key", text(key.value)) + OSSXML.element("UploadId", uploadID)
            + "<PartNumberMarker>\(marker)</PartNumberMarker><NextPartNumberMarker>\(page.last?.number ?? marker)</NextPartNumberMarker>"
            + "<MaxParts>\(maxParts)</MaxParts><IsTruncated>\(all.count > page.count)</IsTruncated>"
            + S3XML.owner(bucket.ownerAccount) + "<StorageClass>STANDARD</StorageClass>"
        for part in page {
            body += "<Part><PartNumber>\(part.number)</PartNumber><LastModified>\(OSSXML.time(part.lastModified))</LastModified>"
                + "<ETag>\(XML.escape(S3XML.etag(part.etag)))</ETag><Size>\(part.size)</Size></Part>"
        }
        return S3XML.response(call, root: "ListPartsResult", body)
    }

    func completeMultipartUpload(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let parts = try ObjectBodies.completedParts(try await xmlBody(call, root: "CompleteMultipartUpload"))
        let info = try await objects.completeMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key, parts: parts,
                                                             maxBytes: maxObjectBytes)
        let location = "/\(name.value)/\(SigningText.percentEncode(key.value, keepSlash: true))"
        return S3XML.response(call, root: "CompleteMultipartUploadResult",
                              OSSXML.element("Location", location) + OSSXML.element("Bucket", name.value) + OSSXML.element("Key", key.value)
                                  + "<ETag>\(XML.escape(S3XML.etag(info.etag)))</ETag>")
    }

    func abortMultipartUpload(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:AbortMultipartUpload", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.abortMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key)
        return S3XML.empty(call, status: .noContent)
    }
}
