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

    // MARK: Buckets

    func listBuckets(_ call: OSSCall) async throws -> Response {
        try call.authorize("oss:ListBuckets", bucket: nil, bucketName: "*")
        let buckets = try await objects.listBuckets().filter { $0.ownerAccount == call.caller.accountID }
        let owner = "<Owner><ID>\(call.caller.accountID)</ID><DisplayName>\(call.caller.accountID)</DisplayName></Owner>"
        let entries = buckets.map { bucket in
            "<Bucket><CreationDate>\(OSSXML.time(bucket.created))</CreationDate><ExtranetEndpoint>localhost</ExtranetEndpoint>"
                + "<IntranetEndpoint>localhost</IntranetEndpoint><Location>oss-local</Location>"
                + OSSXML.element("Name", bucket.name) + "<Region>local</Region><StorageClass>Standard</StorageClass></Bucket>"
        }.joined()
        return OSSXML.response(call, "<ListAllMyBucketsResult>\(owner)<Buckets>\(entries)</Buckets></ListAllMyBucketsResult>")
    }

    func putBucket(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:PutBucket", bucket: nil, bucketName: name.value)
        _ = try await objects.createBucket(name, ownerAccount: call.caller.accountID)
        return OSSXML.empty(call, status: .ok, headers: [.location: "/\(name.value)"])
    }

    func deleteBucket(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:DeleteBucket", bucket: bucket, bucketName: name.value)
        try await objects.deleteBucket(name)
        return OSSXML.empty(call, status: .noContent)
    }

    func getBucketInfo(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:GetBucketInfo", bucket: bucket, bucketName: name.value)
        let body = "<BucketInfo><Bucket><CreationDate>\(OSSXML.time(bucket.created))</CreationDate>"
            + "<ExtranetEndpoint>localhost</ExtranetEndpoint><IntranetEndpoint>localhost</IntranetEndpoint>"
            + "<Location>oss-local</Location>" + OSSXML.element("Name", bucket.name)
            + "<Owner><ID>\(bucket.ownerAccount)</ID><DisplayName>\(bucket.ownerAccount)</DisplayName></Owner>"
            + "<AccessControlList><Grant>private</Grant></AccessControlList><StorageClass>Standard</StorageClass>"
            + "<DataRedundancyType>LRS</DataRedundancyType></Bucket></BucketInfo>"
        return OSSXML.response(call, body)
    }

    /// ListObjects (v1) and ListObjectsV2 (`list-type=2`).
    func listObjects(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        let prefix = call.query["prefix"] ?? "", delimiter = call.query["delimiter"] ?? ""
        try call.authorize("oss:ListObjects", bucket: bucket, bucketName: name.value,
                           context: ["oss:Prefix": prefix, "oss:Delimiter": delimiter])
        let version2 = call.query["list-type"] == "2"
        let maxKeys = try OSSXML.integer(call.query["max-keys"], name: "max-keys", default: 100, range: 0...1000)
        var startAfter = call.query[version2 ? "start-after" : "marker"] ?? ""
        if version2, let token = call.query["continuation-token"], !token.isEmpty {
            guard let decoded = OSSXML.decodeToken(token) else {
                throw WireError(status: .badRequest, code: "InvalidArgument", message: "The continuation-token is not valid.")
            }
            startAfter = decoded
        }
        let page = try await objects.listObjects(
            bucket: name, ObjectListRequest(prefix: prefix, delimiter: delimiter, startAfter: startAfter, maxKeys: maxKeys))
        let encode = call.query["encoding-type"] == "url"
        let text: (String) -> String = { encode ? SigningText.percentEncode($0, keepSlash: true) : $0 }
        let owner = version2 && call.query["fetch-owner"] != "true" ? ""
            : "<Owner><ID>\(bucket.ownerAccount)</ID><DisplayName>\(bucket.ownerAccount)</DisplayName></Owner>"
        var body = "<ListBucketResult>" + OSSXML.element("Name", name.value) + OSSXML.element("Prefix", text(prefix))
        if version2 {
            if let token = call.query["continuation-token"], !token.isEmpty { body += OSSXML.element("ContinuationToken", token) }
            if let after = call.query["start-after"], !after.isEmpty { body += OSSXML.element("StartAfter", text(after)) }
        } else {
            body += OSSXML.element("Marker", text(startAfter))
        }
        body += "<MaxKeys>\(maxKeys)</MaxKeys>" + OSSXML.element("Delimiter", text(delimiter))
        if encode { body += "<EncodingType>url</EncodingType>" }
        body += "<IsTruncated>\(page.isTruncated)</IsTruncated>"
        if page.isTruncated, let next = page.nextMarker {
            body += version2 ? OSSXML.element("NextContinuationToken", OSSXML.encodeToken(next)) : OSSXML.element("NextMarker", text(next))
        }
        if version2 { body += "<KeyCount>\(page.objects.count + page.commonPrefixes.count)</KeyCount>" }
        for object in page.objects {
            body += "<Contents>" + OSSXML.element("Key", text(object.key))
                + "<LastModified>\(OSSXML.time(object.lastModified))</LastModified>"
                + "<ETag>\(OSSXML.etag(object.etag))</ETag><Type>Normal</Type><Size>\(object.size)</Size>"
                + "<StorageClass>Standard</StorageClass>\(owner)</Contents>"
        }
        for common in page.commonPrefixes { body += "<CommonPrefixes>" + OSSXML.element("Prefix", text(common)) + "</CommonPrefixes>" }
        return OSSXML.response(call, body + "</ListBucketResult>")
    }

    /// DeleteMultipleObjects: `POST /bucket/?delete` with the keys in XML; each key is authorized.
    func deleteMultipleObjects(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        var buffer = try await call.request.body.collect(upTo: 2 * 1024 * 1024)
        let document = OSSXMLReader.parse(buffer.readBytes(length: buffer.readableBytes) ?? [])
        guard let document, document.name == "Delete" else {
            throw WireError(status: .badRequest, code: "MalformedXML", message: "The XML you provided was not well-formed.")
        }
        let keys = document.children("Object").compactMap { $0.child("Key")?.text }
        guard !keys.isEmpty, keys.count <= 1000 else {
            throw WireError(status: .badRequest, code: "MalformedXML", message: "Name 1 to 1000 objects to delete.")
        }
        for key in keys { try call.authorize("oss:DeleteObject", bucket: bucket, bucketName: name.value, key: key) }
        let quiet = document.child("Quiet")?.text.lowercased() == "true"
        var body = "<DeleteResult>"
        for key in keys {
            try await objects.deleteObject(bucket: name, key: try ObjectKey(key))
            if !quiet { body += "<Deleted>" + OSSXML.element("Key", key) + "</Deleted>" }
        }
        return OSSXML.response(call, body + "</DeleteResult>")
    }

    // MARK: Cross-origin rules

    func putBucketCORS(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:PutBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        var buffer = try await call.request.body.collect(upTo: 64 * 1024)
        guard let document = OSSXMLReader.parse(buffer.readBytes(length: buffer.readableBytes) ?? []),
              document.name == "CORSConfiguration"
        else { throw WireError(status: .badRequest, code: "MalformedXML", message: "The XML you provided was not well-formed.") }
        let rules = document.children("CORSRule").map { rule in
            CORSRule(allowedOrigins: rule.children("AllowedOrigin").map(\.trimmed),
                     allowedMethods: rule.children("AllowedMethod").map(\.trimmed),
                     allowedHeaders: rule.children("AllowedHeader").map(\.trimmed),
                     exposeHeaders: rule.children("ExposeHeader").map(\.trimmed),
                     maxAgeSeconds: rule.child("MaxAgeSeconds").flatMap { Int($0.trimmed) })
        }
        try await objects.setCORSRules(name, rules)
        return OSSXML.empty(call, status: .ok)
    }

    func getBucketCORS(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:GetBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        guard let rules = try await objects.corsRules(name) else {
            throw WireError(status: .notFound, code: "NoSuchCORSConfiguration", message: "The CORS configuration does not exist.")
        }
        var body = ""
        for rule in rules {
            let elements: [(String, [String])] = [("AllowedOrigin", rule.allowedOrigins), ("AllowedMethod", rule.allowedMethods),
                                                  ("AllowedHeader", rule.allowedHeaders), ("ExposeHeader", rule.exposeHeaders)]
            body += "<CORSRule>"
            for (name, values) in elements { body += values.map { OSSXML.element(name, $0) }.joined() }
            if let age = rule.maxAgeSeconds { body += "<MaxAgeSeconds>\(age)</MaxAgeSeconds>" }
            body += "</CORSRule>"
        }
        return OSSXML.response(call, "<CORSConfiguration>\(body)<ResponseVary>false</ResponseVary></CORSConfiguration>")
    }

    func deleteBucketCORS(_ call: OSSCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:DeleteBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        try await objects.setCORSRules(name, nil)
        return OSSXML.empty(call, status: .noContent)
    }

    // MARK: Objects

    func putObject(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let info = try await objects.putObject(bucket: name, key: key, attributes: try attributes(from: call.request.headers),
                                               body: call.request.body.map { Array(buffer: $0) })
        return OSSXML.empty(call, status: .ok, headers: [.eTag: OSSXML.etag(info.etag)])
    }

    // MARK: Multipart uploads (authorized as PutObject, as OSS does, except listing and aborting)

    func initiateMultipartUpload(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let upload = try await objects.initiateMultipartUpload(bucket: name, key: key, attributes: try attributes(from: call.request.headers))
        return OSSXML.response(call, "<InitiateMultipartUploadResult>" + OSSXML.element("Bucket", name.value)
                                   + OSSXML.element("Key", key.value) + OSSXML.element("UploadId", upload.id)
                                   + "</InitiateMultipartUploadResult>")
    }

    func uploadPart(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        guard let number = Int(call.query["partNumber"] ?? "") else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "partNumber must be an integer from 1 to 10000.")
        }
        let part = try await objects.uploadPart(call.query["uploadId"] ?? "", bucket: name, key: key, number: number,
                                                attributes: try attributes(from: call.request.headers),
                                                body: call.request.body.map { Array(buffer: $0) })
        return OSSXML.empty(call, status: .ok, headers: [.eTag: OSSXML.etag(part.etag)])
    }

    func listParts(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:ListParts", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let uploadID = call.query["uploadId"] ?? ""
        let marker = try OSSXML.integer(call.query["part-number-marker"], name: "part-number-marker", default: 0, range: 0...10_000)
        let maxParts = try OSSXML.integer(call.query["max-parts"], name: "max-parts", default: 1000, range: 1...1000)
        let all = try await objects.parts(of: uploadID, bucket: name, key: key).filter { $0.number > marker }
        let page = all.prefix(maxParts)
        var body = "<ListPartsResult>" + OSSXML.element("Bucket", name.value) + OSSXML.element("Key", key.value)
            + OSSXML.element("UploadId", uploadID) + "<PartNumberMarker>\(marker)</PartNumberMarker>"
            + "<NextPartNumberMarker>\(page.last?.number ?? marker)</NextPartNumberMarker><MaxParts>\(maxParts)</MaxParts>"
            + "<IsTruncated>\(all.count > page.count)</IsTruncated>"
        for part in page {
            body += "<Part><PartNumber>\(part.number)</PartNumber><LastModified>\(OSSXML.time(part.lastModified))</LastModified>"
                + "<ETag>\(OSSXML.etag(part.etag))</ETag><Size>\(part.size)</Size></Part>"
        }
        return OSSXML.response(call, body + "</ListPartsResult>")
    }

    func completeMultipartUpload(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        var buffer = try await call.request.body.collect(upTo: 2 * 1024 * 1024)
        guard let document = OSSXMLReader.parse(buffer.readBytes(length: buffer.readableBytes) ?? []),
              document.name == "CompleteMultipartUpload"
        else { throw WireError(status: .badRequest, code: "MalformedXML", message: "The XML you provided was not well-formed.") }
        let parts = try document.children("Part").map { part -> (number: Int, etag: String) in
            guard let number = part.child("PartNumber").flatMap({ Int($0.trimmed) }), let etag = part.child("ETag")?.trimmed else {
                throw WireError(status: .badRequest, code: "MalformedXML", message: "Each Part needs a PartNumber and an ETag.")
            }
            return (number, etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        let info = try await objects.completeMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key, parts: parts,
                                                             maxBytes: maxObjectBytes)
        let response = OSSXML.response(call, "<CompleteMultipartUploadResult>" + OSSXML.element("Location", "/\(name.value)/\(key.value)")
                                            + OSSXML.element("Bucket", name.value) + OSSXML.element("Key", key.value)
                                            + "<ETag>\(OSSXML.etag(info.etag))</ETag></CompleteMultipartUploadResult>")
        var withTag = response
        withTag.headers[.eTag] = OSSXML.etag(info.etag)
        return withTag
    }

    func abortMultipartUpload(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:AbortMultipartUpload", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.abortMultipartUpload(call.query["uploadId"] ?? "", bucket: name, key: key)
        return OSSXML.empty(call, status: .noContent)
    }

    /// CopyObject: `PUT` with `x-oss-copy-source: /bucket/key`; metadata copied unless
    /// `x-oss-metadata-directive: REPLACE`.
    func copyObject(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        let headers = call.request.headers
        let source = (headers[HTTPField.Name("x-oss-copy-source")!] ?? "").removingPercentEncoding ?? ""
        let parts = source.drop(while: { $0 == "/" }).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "x-oss-copy-source must be /bucket/key.")
        }
        let (sourceBucket, sourceKey) = (try BucketName(parts[0]), try ObjectKey(parts[1]))
        try call.authorize("oss:GetObject", bucket: try await objects.bucket(sourceBucket), bucketName: sourceBucket.value,
                           key: sourceKey.value)
        try call.authorize("oss:PutObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let replace = headers[HTTPField.Name("x-oss-metadata-directive")!]?.uppercased() == "REPLACE"
        let info = try await objects.copyObject(from: sourceBucket, sourceKey, to: name, key,
                                                attributes: replace ? try attributes(from: headers) : nil, maxBytes: maxObjectBytes)
        return OSSXML.response(call, "<CopyObjectResult><LastModified>\(OSSXML.time(info.lastModified))</LastModified>"
                                   + "<ETag>\(OSSXML.etag(info.etag))</ETag></CopyObjectResult>")
    }

    func getObject(_ call: OSSCall, head: Bool) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:GetObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        let info = try await objects.headObject(bucket: name, key: key)
        if let status = try OSSConditions.check(call.request.headers, info: info) {
            var headers = HTTPFields()
            headers[.eTag] = OSSXML.etag(info.etag)
            headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
            return Response(status: status, headers: headers)
        }
        let range = head ? nil : OSSConditions.range(call.request.headers[.range])
        let read = try await objects.getObject(bucket: name, key: key, range: range)
        var headers = HTTPFields()
        headers[.contentType] = info.contentType
        headers[.contentLength] = String(read.contentLength)
        headers[.eTag] = OSSXML.etag(info.etag)
        headers[.lastModified] = HTTPDates.format(info.lastModified)
        headers[.acceptRanges] = "bytes"
        headers[HTTPField.Name("x-oss-object-type")!] = "Normal"
        headers[HTTPField.Name("x-oss-storage-class")!] = "Standard"
        headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
        for (name, value) in info.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-oss-meta-\(name)") { headers[field] = value }
        }
        if let served = read.range {
            headers[.contentRange] = "bytes \(served.lowerBound)-\(served.upperBound)/\(info.size)"
        }
        if head { return Response(status: .ok, headers: headers) }
        return Response(status: read.range == nil ? .ok : .partialContent, headers: headers,
                        body: ResponseBody(asyncSequence: read.body.map { ByteBuffer(bytes: $0) }))
    }

    func deleteObject(_ call: OSSCall) async throws -> Response {
        let (name, key) = (try call.bucketName, try call.objectKey)
        try call.authorize("oss:DeleteObject", bucket: try await objects.bucket(name), bucketName: name.value, key: key.value)
        try await objects.deleteObject(bucket: name, key: key)
        return OSSXML.empty(call, status: .noContent)
    }

    /// Content type, `x-oss-meta-*` and `Content-MD5` of a new object or part.
    func attributes(from headers: HTTPFields) throws -> ObjectAttributes {
        var metadata: [String: String] = [:]
        for field in headers where field.name.canonicalName.hasPrefix("x-oss-meta-") {
            metadata[String(field.name.canonicalName.dropFirst("x-oss-meta-".count))] = field.value
        }
        var attributes = ObjectAttributes(contentType: headers[.contentType] ?? "application/octet-stream", userMetadata: metadata,
                                          maxBytes: maxObjectBytes)
        if let md5 = headers[HTTPField.Name("Content-MD5")!] {
            guard let digest = Data(base64Encoded: md5), digest.count == 16 else {
                throw WireError(status: .badRequest, code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.")
            }
            attributes.expectedMD5 = Array(digest)
        }
        return attributes
    }
}

/// Conditional and range headers of GetObject.
enum OSSConditions {
    /// The status that answers the request instead of the object (304 or 412), if any.
    static func check(_ headers: HTTPFields, info: ObjectInfo) throws -> HTTPResponse.Status? {
        let etag = info.etag.lowercased()
        func matches(_ list: String) -> Bool {
            list.split(separator: ",").contains { item in
                let value = item.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
                return value == "*" || value == etag
            }
        }
        // Last-Modified is sent in whole seconds; compare at that precision.
        let modified = info.lastModified.timeIntervalSince1970.rounded(.down)
        if let list = headers[.ifMatch], !matches(list) { throw VisageError.preconditionFailed(message: "If-Match") }
        if let text = headers[.ifUnmodifiedSince], let date = HTTPDates.parse(text), modified > date.timeIntervalSince1970 {
            throw VisageError.preconditionFailed(message: "If-Unmodified-Since")
        }
        if let list = headers[.ifNoneMatch], matches(list) { return .notModified }
        if let text = headers[.ifModifiedSince], let date = HTTPDates.parse(text), modified <= date.timeIntervalSince1970 {
            return .notModified
        }
        return nil
    }

    /// `bytes=first-last`, `bytes=first-` or `bytes=-count`; anything else means the whole object.
    static func range(_ header: String?) -> ByteRange? {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty { return Int64(spec[1]).map { .suffix($0) } }
        guard let first = Int64(spec[0]) else { return nil }
        if spec[1].isEmpty { return .from(first, through: nil) }
        guard let last = Int64(spec[1]), last >= first else { return nil }
        return .from(first, through: last)
    }
}
