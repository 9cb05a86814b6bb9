import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageStore

/// Objects: write, copy, read (with conditions, ranges and header overrides), describe, delete.
extension S3Operations {
    func putObject(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        var attributes = try attributes(from: call.headers)
        // A checksum sent as a header is kept (the body check refuses the write unless it holds);
        // one sent as a trailer arrives after the write has begun and is only verified.
        if let declared = try S3Checksum.declared(in: call.headers), let value = declared.value {
            attributes.checksum = "\(declared.algorithm.rawValue):\(value)"
        }
        let info = try await objects.putObject(bucket: name, key: key, attributes: attributes, body: try call.body())
        return S3XML.empty(call, headers: [.eTag: S3XML.etag(info.etag)])
    }

    /// CopyObject: `PUT` with `x-amz-copy-source: bucket/key`; metadata copied unless
    /// `x-amz-metadata-directive: REPLACE`. The caller must be allowed to read the source.
    func copyObject(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let (sourceBucket, sourceKey) = try copySource(call)
        _ = try await oss.readable(call.base, bucket: sourceBucket, key: sourceKey)
        try call.base.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let replace = call.headers[HTTPField.Name("x-amz-metadata-directive")!]?.uppercased() == "REPLACE"
        let info = try await objects.copyObject(from: sourceBucket, sourceKey, to: name, key,
                                                attributes: replace ? try attributes(from: call.headers) : nil, maxBytes: maxObjectBytes)
        return S3XML.response(call, root: "CopyObjectResult",
                              "<LastModified>\(OSSXML.time(info.lastModified))</LastModified><ETag>\(XML.escape(S3XML.etag(info.etag)))</ETag>")
    }

    /// The object `x-amz-copy-source` names (`bucket/key`, percent-encoded, optionally
    /// `?versionId=`; this server keeps one version, so only `null` names it).
    func copySource(_ call: S3Call) throws -> (BucketName, ObjectKey) {
        let text = call.headers[.amzCopySource] ?? ""
        let parts = text.split(separator: "?", maxSplits: 1)
        if parts.count == 2, parts[1] != "versionId=null" { throw S3Error.notImplemented("x-amz-copy-source versionId") }
        return try OSSOperations.copySource(parts.first.map(String.init) ?? "", header: "x-amz-copy-source")
    }

    func getObject(_ call: S3Call, head: Bool) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let info = try await oss.readable(call.base, bucket: name, key: key)
        // Conditions first (a 412 wins over a 416), then again on the version actually opened,
        // so the answer, its headers and its bytes always come from one version of the object.
        if let answer = try notModifiedOrFailed(call, info: info) { return answer }
        let range = head ? nil : OSSConditions.range(call.headers[.range])
        let read = try await objects.getObject(bucket: name, key: key, range: range)
        if read.info.etag != info.etag, let answer = try notModifiedOrFailed(call, info: read.info) { return answer }
        var headers = call.responseHeaders()
        for field in Self.described(read.info) { headers[field.name] = field.value }
        if let served = read.range {
            headers[.contentRange] = "bytes \(served.lowerBound)-\(served.upperBound)/\(read.info.size)"
        }
        // The kept checksum, when asked for and the whole object is sent (it covers only the whole).
        if call.headers[HTTPField.Name("x-amz-checksum-mode")!]?.uppercased() == "ENABLED", read.range == nil,
           let kept = read.info.checksum, let colon = kept.firstIndex(of: ":"),
           let algorithm = S3Checksum.Algorithm(rawValue: String(kept[..<colon])) {
            headers[HTTPField.Name(algorithm.header)!] = String(kept[kept.index(after: colon)...])
        }
        OSSObjectHeaders.override(&headers, query: call.query)
        headers[.contentLength] = String(read.contentLength)
        if head { return Response(status: .ok, headers: headers) }
        return Response(status: read.range == nil ? .ok : .partialContent, headers: headers,
                        body: ResponseBody(asyncSequence: read.body.map { ByteBuffer(bytes: $0) }))
    }

    /// The response headers that describe a stored object.
    static func described(_ info: ObjectInfo) -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = S3XML.etag(info.etag)
        headers[.contentType] = info.contentType
        headers[.lastModified] = HTTPDates.format(info.lastModified)
        headers[.acceptRanges] = "bytes"
        if !info.tags.isEmpty { headers[HTTPField.Name("x-amz-tagging-count")!] = String(info.tags.count) }
        for (name, value) in info.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-amz-meta-\(name)") { headers[field] = value }
        }
        return headers
    }

    /// The 304 that answers a conditional read instead of the object, if any; 412 is thrown.
    private func notModifiedOrFailed(_ call: S3Call, info: ObjectInfo) throws -> Response? {
        guard let status = try OSSConditions.check(call.headers, info: info) else { return nil }
        var headers = call.responseHeaders()
        headers[.eTag] = S3XML.etag(info.etag)
        headers[.lastModified] = HTTPDates.format(info.lastModified)
        return Response(status: status, headers: headers)
    }

    func deleteObject(_ call: S3Call) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.base.authorize("oss:DeleteObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.deleteObject(bucket: name, key: key)
        return S3XML.empty(call, status: .noContent)
    }

    /// DeleteObjects: `POST /bucket?delete` with the keys in XML; each key is authorized before
    /// any is deleted.
    func deleteObjects(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        let (keys, quiet) = try ObjectBodies.deletion(try await xmlBody(call, root: "Delete"))
        for key in keys { try call.base.authorize("oss:DeleteObject", bucket: bucket, bucketName: name.value, key: key.value) }
        var body = ""
        for key in keys {
            try await objects.deleteObject(bucket: name, key: key)
            if !quiet { body += "<Deleted>" + OSSXML.element("Key", key.value) + "</Deleted>" }
        }
        return S3XML.response(call, root: "DeleteResult", body)
    }
}
