import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageStore

/// Multipart uploads, authorized as PutObject (as OSS does) except listing and aborting.
extension OSSOperations {
    func initiateMultipartUpload(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let upload = try await objects.initiateMultipartUpload(bucket: name, key: key, attributes: try attributes(from: call.request.headers))
        let text = OSSXML.keyText(call)
        var body = "<InitiateMultipartUploadResult>" + OSSXML.element("Bucket", name.value) + OSSXML.element("Key", text(key.value))
            + OSSXML.element("UploadId", upload.id)
        body += OSSXML.encodingType(call)
        return OSSXML.response(call, body + "</InitiateMultipartUploadResult>")
    }

    func uploadPart(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let part = try await objects.uploadPart(call.query["uploadId"] ?? "", bucket: name, key: key, number: try partNumber(call),
                                                attributes: try attributes(from: call.request.headers),
                                                body: call.request.body.blocks)
        return OSSXML.empty(call, status: .ok, headers: Self.partHeaders(part))
    }

    /// UploadPartCopy: a part whose bytes are another object's (or a range of them, from
    /// `x-oss-copy-source-range: bytes=first-last`).
    func uploadPartCopy(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let (sourceBucket, sourceKey) = try copySource(call)
        _ = try await readable(call, bucket: sourceBucket, key: sourceKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        var range: ByteRange?
        if let text = call.request.headers[HTTPField.Name("x-oss-copy-source-range")!] {
            guard let parsed = OSSConditions.range(text) else {
                throw WireError(status: .badRequest, code: "InvalidArgument", message: "x-oss-copy-source-range must be bytes=first-last.")
            }
            range = parsed
        }
        let source = try await objects.getObject(bucket: sourceBucket, key: sourceKey, range: range)
        let part = try await objects.uploadPart(call.query["uploadId"] ?? "", bucket: name, key: key, number: try partNumber(call),
                                                attributes: ObjectAttributes(maxBytes: maxObjectBytes), body: source.body)
        let response = OSSXML.response(call, "<CopyPartResult><LastModified>\(OSSXML.time(part.lastModified))</LastModified>"
                                           + "<ETag>\(OSSXML.etag(part.etag))</ETag></CopyPartResult>")
        return OSSObjectHeaders.adding(Self.partHeaders(part), to: response)
    }

    func partNumber(_ call: ObjectCall) throws -> Int {
        guard let number = Int(call.query["partNumber"] ?? "") else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "partNumber must be an integer from 1 to 10000.")
        }
        return number
    }

    static func partHeaders(_ part: UploadedPart) -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = OSSXML.etag(part.etag)
        if let crc = part.crc64 { headers[.ossCRC64] = String(crc) }
        return headers
    }

    func listParts(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:ListParts", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let uploadID = call.query["uploadId"] ?? ""
        let marker = try OSSXML.integer(call.query["part-number-marker"], name: "part-number-marker", default: 0, range: 0...10_000)
        let maxParts = try OSSXML.integer(call.query["max-parts"], name: "max-parts", default: 1000, range: 1...1000)
        let all = try await objects.parts(of: uploadID, bucket: name, key: key).filter { $0.number > marker }
        let page = all.prefix(maxParts)
        let text = OSSXML.keyText(call)
        var body = "<ListPartsResult>" + OSSXML.element("Bucket", name.value) + OSSXML.element("Key", text(key.value))
            + OSSXML.element("UploadId", uploadID) + "<PartNumberMarker>\(marker)</PartNumberMarker>"
            + "<NextPartNumberMarker>\(page.last?.number ?? marker)</NextPartNumberMarker><MaxParts>\(maxParts)</MaxParts>"
            + "<IsTruncated>\(all.count > page.count)</IsTruncated>"
        body += OSSXML.encodingType(call)
        for part in page {
            body += "<Part><PartNumber>\(part.number)</PartNumber><LastModified>\(OSSXML.time(part.lastModified))</LastModified>"
                + "<ETag>\(OSSXML.etag(part.etag))</ETag><HashCrc64ecma>\(part.crc64.map(String.init) ?? "")</HashCrc64ecma>"
                + "<Size>\(part.size)</Size></Part>"
        }
        return OSSXML.response(call, body + "</ListPartsResult>")
    }

    func completeMultipartUpload(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let document = try await xmlBody(call, root: "CompleteMultipartUpload")
        let parts = try ObjectBodies.completedParts(document)
        let info = try await objects.completeMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key, parts: parts,
                                                             maxBytes: maxObjectBytes)
        let text = OSSXML.keyText(call)
        var body = "<CompleteMultipartUploadResult>"
        body += OSSXML.encodingType(call)
        body += OSSXML.element("Location", "/\(name.value)/\(text(key.value))") + OSSXML.element("Bucket", name.value)
            + OSSXML.element("Key", text(key.value)) + "<ETag>\(OSSXML.etag(info.etag))</ETag></CompleteMultipartUploadResult>"
        return OSSObjectHeaders.adding(OSSObjectHeaders.written(info), to: OSSXML.response(call, body))
    }

    func abortMultipartUpload(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:AbortMultipartUpload", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.abortMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key)
        return OSSXML.empty(call, status: .noContent)
    }
}
