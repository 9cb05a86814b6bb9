import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore
import VisageStore

/// Objects: write, copy, read (with conditions, ranges, header overrides and gzip), describe,
/// delete, and their access rules and tags.
extension OSSOperations {
    func putObject(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let info = try await objects.putObject(bucket: name, key: key, attributes: try attributes(from: call.request.headers),
                                               body: call.request.body.blocks)
        return OSSXML.empty(call, status: .ok, headers: OSSObjectHeaders.written(info))
    }

    /// CopyObject: `PUT` with `x-oss-copy-source: /bucket/key`; metadata copied unless
    /// `x-oss-metadata-directive: REPLACE`.
    func copyObject(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let headers = call.request.headers
        let (sourceBucket, sourceKey) = try copySource(call)
        // A copy reads the source: the caller must be allowed to read it, as for UploadPartCopy.
        _ = try await readable(call, bucket: sourceBucket, key: sourceKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let replace = headers[HTTPField.Name("x-oss-metadata-directive")!]?.uppercased() == "REPLACE"
        let info = try await objects.copyObject(from: sourceBucket, sourceKey, to: name, key,
                                                attributes: replace ? try attributes(from: headers) : nil, maxBytes: maxObjectBytes)
        let response = OSSXML.response(call, "<CopyObjectResult><LastModified>\(OSSXML.time(info.lastModified))</LastModified>"
                                           + "<ETag>\(OSSXML.etag(info.etag))</ETag></CopyObjectResult>")
        return OSSObjectHeaders.adding(OSSObjectHeaders.written(info), to: response)
    }

    /// The object named by `x-oss-copy-source`, which the caller must be allowed to read.
    func copySource(_ call: ObjectCall) throws -> (BucketName, ObjectKey) {
        try Self.copySource(call.request.headers[HTTPField.Name("x-oss-copy-source")!] ?? "", header: "x-oss-copy-source")
    }

    /// The object a copy source header names (`/bucket/key`, percent-encoded; S3's
    /// `x-amz-copy-source` is written alike).
    static func copySource(_ text: String, header: String) throws -> (BucketName, ObjectKey) {
        let source = text.removingPercentEncoding ?? ""
        let parts = source.drop(while: { $0 == "/" }).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "\(header) must be /bucket/key.")
        }
        return (try BucketName(parts[0]), try ObjectKey(parts[1]))
    }

    /// The object a read names, once the caller may read it: by policy, or by a public access
    /// rule of the object (or, for objects that follow it, of the bucket).
    func readable(_ call: ObjectCall, action: String = "oss:GetObject", bucket name: BucketName, key: ObjectKey) async throws -> ObjectInfo {
        let bucket: BucketInfo
        do {
            bucket = try await objects.bucket(name)
        } catch VisageError.notFound(kind: .bucket, _) where call.caller == nil {
            // Anonymous callers do not learn which buckets exist.
            throw OSSError.accessDenied("Anonymous access is not allowed: sign the request.")
        }
        do {
            let info = try await objects.headObject(bucket: name, key: key)
            try call.authorize(action, bucket: bucket, bucketName: name.value, key: key.value, readACL: info.acl ?? bucket.acl)
            return info
        } catch VisageError.notFound(kind: .object, let missing) {
            // Only a caller who could read the object learns that it is missing.
            try call.authorize(action, bucket: bucket, bucketName: name.value, key: key.value, readACL: bucket.acl)
            throw VisageError.notFound(kind: .object, name: missing)
        }
    }

    /// The whole bytes of an object, read for a caller of another dialect (an image to analyse):
    /// authorized as that caller's GET would be; larger than `limit` is refused as too large.
    func readAll(bucket: String, key: String, caller: Caller, request: Request, sourceIP: String?, requestID: String,
                 limit: Int) async throws -> [UInt8] {
        let call = ObjectCall(request: request, bucket: bucket, key: key, query: [:], caller: caller, sourceIP: sourceIP,
                              requestID: requestID)
        let (name, objectKey) = (try call.bucketName, try ObjectKey(key))
        let info = try await readable(call, bucket: name, key: objectKey)
        guard info.size <= limit else { throw VisageError.tooLarge(field: "object", limit: limit) }
        let read = try await objects.getObject(bucket: name, key: objectKey, range: nil)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.size))
        for try await piece in read.body {
            bytes += piece
            guard bytes.count <= limit else { throw VisageError.tooLarge(field: "object", limit: limit) }
        }
        return bytes
    }

    func getObject(_ call: ObjectCall, head: Bool) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let info = try await readable(call, bucket: name, key: key)
        // Conditions first (a 412 wins over a 416), then again on the version actually opened,
        // so the answer, its headers and its bytes always come from one version of the object.
        if let answer = try notModifiedOrFailed(call, info: info) { return answer }
        let range = head ? nil : OSSConditions.range(call.request.headers[.range])
        let read = try await objects.getObject(bucket: name, key: key, range: range)
        if read.info.etag != info.etag, let answer = try notModifiedOrFailed(call, info: read.info) { return answer }
        var headers = OSSObjectHeaders.described(read.info)
        headers[.ossRequestID] = call.requestID
        headers[.acceptRanges] = "bytes"
        if let served = read.range {
            headers[.contentRange] = "bytes \(served.lowerBound)-\(served.upperBound)/\(read.info.size)"
        }
        OSSObjectHeaders.override(&headers, query: call.query)
        let compress = !head && read.range == nil && call.query["response-content-encoding"] == nil
            && GzipPolicy.accepts(call.request.headers[.acceptEncoding]) && GzipPolicy.compressible(read.info)
        if compress {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: GzipSequence(base: read.body)))
        }
        headers[.contentLength] = String(read.contentLength)
        if head { return Response(status: .ok, headers: headers) }
        return Response(status: read.range == nil ? .ok : .partialContent, headers: headers,
                        body: ResponseBody(asyncSequence: read.body.map { ByteBuffer(bytes: $0) }))
    }

    /// The 304 that answers a conditional read instead of the object, if any; 412 is thrown.
    private func notModifiedOrFailed(_ call: ObjectCall, info: ObjectInfo) throws -> Response? {
        guard let status = try OSSConditions.check(call.request.headers, info: info) else { return nil }
        var headers = HTTPFields()
        headers[.eTag] = OSSXML.etag(info.etag)
        headers[.ossRequestID] = call.requestID
        return Response(status: status, headers: headers)
    }

    /// GetObjectMeta: `HEAD ?objectMeta`, the object's ETag, size, time and checksum only.
    func getObjectMeta(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let info = try await readable(call, bucket: name, key: key)
        var headers = OSSObjectHeaders.written(info)
        headers[.contentLength] = String(info.size)
        headers[.lastModified] = HTTPDates.format(info.lastModified)
        headers[.ossRequestID] = call.requestID
        return Response(status: .ok, headers: headers)
    }

    func deleteObject(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:DeleteObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.deleteObject(bucket: name, key: key)
        return OSSXML.empty(call, status: .noContent)
    }

    // MARK: Access rules and tags (metadata only: the bytes and ETag stay as they are)

    func getObjectACL(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:GetObjectAcl", bucket: bucket, bucketName: name.value, key: key.value)
        let info = try await objects.headObject(bucket: name, key: key)
        return OSSXML.response(call, OSSACL.body(owner: bucket.ownerAccount, grant: info.acl?.rawValue ?? "default"))
    }

    func putObjectACL(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObjectAcl", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        guard let text = call.request.headers[HTTPField.Name("x-oss-object-acl")!] else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "PutObjectAcl needs the x-oss-object-acl header.")
        }
        try await objects.setObjectACL(bucket: name, key: key, try OSSACL.objectACL(text))
        return OSSXML.empty(call, status: .ok)
    }

    func getObjectTagging(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:GetObjectTagging", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let info = try await objects.headObject(bucket: name, key: key)
        let tags = info.tags.map { "<Tag>" + OSSXML.element("Key", $0.key) + OSSXML.element("Value", $0.value) + "</Tag>" }
        return OSSXML.response(call, "<Tagging><TagSet>\(tags.joined())</TagSet></Tagging>")
    }

    func putObjectTagging(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObjectTagging", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let document = try await xmlBody(call, root: "Tagging", limit: 64 * 1024)
        let tags = (document.child("TagSet")?.children("Tag") ?? []).map { tag in
            ObjectTag(key: tag.child("Key")?.text ?? "", value: tag.child("Value")?.text ?? "")
        }
        try await objects.setObjectTags(bucket: name, key: key, tags)
        return OSSXML.empty(call, status: .ok)
    }

    func deleteObjectTagging(_ call: ObjectCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:DeleteObjectTagging", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.setObjectTags(bucket: name, key: key, [])
        return OSSXML.empty(call, status: .noContent)
    }
}

/// The response headers that describe a stored object.
enum OSSObjectHeaders {
    /// What a write answers with: the ETag and the CRC-64 the client compares with its own.
    static func written(_ info: ObjectInfo) -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = OSSXML.etag(info.etag)
        if let crc = info.crc64 { headers[.ossCRC64] = String(crc) }
        return headers
    }

    /// What a read or HEAD answers with, before any override.
    static func described(_ info: ObjectInfo) -> HTTPFields {
        var headers = written(info)
        headers[.contentType] = info.contentType
        headers[.lastModified] = HTTPDates.format(info.lastModified)
        headers[HTTPField.Name("x-oss-object-type")!] = OSSXML.objectType(info)
        headers[HTTPField.Name("x-oss-storage-class")!] = "Standard"
        if !info.tags.isEmpty { headers[HTTPField.Name("x-oss-tagging-count")!] = String(info.tags.count) }
        for (name, value) in info.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-oss-meta-\(name)") { headers[field] = value }
        }
        return headers
    }

    /// The `response-*` query parameters of a signed GET replace these response headers.
    static func override(_ headers: inout HTTPFields, query: [String: String]) {
        let fields: [(String, HTTPField.Name)] = [
            ("response-content-type", .contentType), ("response-content-language", .contentLanguage),
            ("response-expires", .expires), ("response-cache-control", .cacheControl),
            ("response-content-disposition", .contentDisposition), ("response-content-encoding", .contentEncoding),
        ]
        for (parameter, field) in fields {
            if let value = query[parameter] { headers[field] = value }
        }
    }

    static func adding(_ extra: HTTPFields, to response: Response) -> Response {
        var response = response
        for field in extra { response.headers[field.name] = field.value }
        return response
    }
}

extension HTTPField.Name {
    static let ossRequestID = HTTPField.Name("x-oss-request-id")!
    static let ossCRC64 = HTTPField.Name("x-oss-hash-crc64ecma")!
}
