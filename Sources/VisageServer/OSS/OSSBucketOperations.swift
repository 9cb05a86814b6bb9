import Foundation
import HTTPTypes
import Hummingbird
import VisageCore
import VisageStore

/// Buckets: create, delete, describe, access rules, cross-origin rules, and listings.
extension OSSOperations {
    /// The region every bucket reports: there is one location, this server.
    static let location = "oss-local"

    func listBuckets(_ call: ObjectCall) async throws -> Response {
        let caller = try call.signer
        try call.authorize("oss:ListBuckets", bucket: nil, bucketName: "*")
        let prefix = call.query["prefix"] ?? "", marker = call.query["marker"] ?? ""
        let maxKeys = try OSSXML.integer(call.query["max-keys"], name: "max-keys", default: 100, range: 1...1000)
        let mine = try await objects.listBuckets().filter {
            $0.ownerAccount == caller.accountID && $0.name.hasPrefix(prefix) && $0.name > marker
        }
        let page = mine.prefix(maxKeys)
        let owner = "<Owner><ID>\(caller.accountID)</ID><DisplayName>\(caller.accountID)</DisplayName></Owner>"
        var body = "<ListAllMyBucketsResult>"
        if !prefix.isEmpty { body += OSSXML.element("Prefix", prefix) }
        if !marker.isEmpty { body += OSSXML.element("Marker", marker) }
        if call.query["max-keys"] != nil { body += "<MaxKeys>\(maxKeys)</MaxKeys>" }
        if mine.count > page.count, let last = page.last {
            body += "<IsTruncated>true</IsTruncated>" + OSSXML.element("NextMarker", last.name)
        }
        let entries = page.map { bucket in
            "<Bucket><CreationDate>\(OSSXML.time(bucket.created))</CreationDate><ExtranetEndpoint>localhost</ExtranetEndpoint>"
                + "<IntranetEndpoint>localhost</IntranetEndpoint><Location>\(Self.location)</Location>"
                + OSSXML.element("Name", bucket.name) + "<Region>local</Region><StorageClass>Standard</StorageClass></Bucket>"
        }.joined()
        return OSSXML.response(call, body + owner + "<Buckets>\(entries)</Buckets></ListAllMyBucketsResult>")
    }

    func putBucket(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        let caller = try call.signer
        try call.authorize("oss:PutBucket", bucket: nil, bucketName: name.value)
        let acl = try call.request.headers[HTTPField.Name("x-oss-acl")!].map(OSSACL.bucketACL)
        _ = try await objects.createBucket(name, ownerAccount: caller.accountID)
        if let acl, acl != .private { try await objects.setBucketACL(name, acl) }
        return OSSXML.empty(call, status: .ok, headers: [.location: "/\(name.value)"])
    }

    func deleteBucket(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:DeleteBucket", bucket: bucket, bucketName: name.value)
        try await objects.deleteBucket(name)
        return OSSXML.empty(call, status: .noContent)
    }

    func getBucketInfo(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:GetBucketInfo", bucket: bucket, bucketName: name.value)
        let body = "<BucketInfo><Bucket><CreationDate>\(OSSXML.time(bucket.created))</CreationDate>"
            + "<ExtranetEndpoint>localhost</ExtranetEndpoint><IntranetEndpoint>localhost</IntranetEndpoint>"
            + "<Location>\(Self.location)</Location>" + OSSXML.element("Name", bucket.name)
            + "<Owner><ID>\(bucket.ownerAccount)</ID><DisplayName>\(bucket.ownerAccount)</DisplayName></Owner>"
            + "<AccessControlList>" + OSSXML.element("Grant", bucket.acl.rawValue) + "</AccessControlList>"
            + "<Comment></Comment><StorageClass>Standard</StorageClass>"
            + "<DataRedundancyType>LRS</DataRedundancyType></Bucket></BucketInfo>"
        return OSSXML.response(call, body)
    }

    func getBucketLocation(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:GetBucketLocation", bucket: try await objects.bucket(name), bucketName: name.value)
        return OSSXML.response(call, OSSXML.element("LocationConstraint", Self.location))
    }

    func getBucketACL(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        try call.authorize("oss:GetBucketAcl", bucket: bucket, bucketName: name.value)
        return OSSXML.response(call, OSSACL.body(owner: bucket.ownerAccount, grant: bucket.acl.rawValue))
    }

    func putBucketACL(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:PutBucketAcl", bucket: try await objects.bucket(name), bucketName: name.value)
        guard let text = call.request.headers[HTTPField.Name("x-oss-acl")!] else {
            throw WireError(status: .badRequest, code: "InvalidArgument", message: "PutBucketAcl needs the x-oss-acl header.")
        }
        try await objects.setBucketACL(name, try OSSACL.bucketACL(text))
        return OSSXML.empty(call, status: .ok)
    }

    /// ListObjects (v1) and ListObjectsV2 (`list-type=2`).
    func listObjects(_ call: ObjectCall) async throws -> Response {
        let (name, bucket, prefix, delimiter) = try await listing(call, action: "oss:ListObjects")
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
        let text = OSSXML.keyText(call)
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
        body += OSSXML.encodingType(call)
        body += "<IsTruncated>\(page.isTruncated)</IsTruncated>"
        if page.isTruncated, let next = page.nextMarker {
            body += version2 ? OSSXML.element("NextContinuationToken", OSSXML.encodeToken(next)) : OSSXML.element("NextMarker", text(next))
        }
        if version2 { body += "<KeyCount>\(page.objects.count + page.commonPrefixes.count)</KeyCount>" }
        for object in page.objects {
            body += "<Contents>" + OSSXML.element("Key", text(object.key))
                + "<LastModified>\(OSSXML.time(object.lastModified))</LastModified>"
                + "<ETag>\(OSSXML.etag(object.etag))</ETag><Type>\(OSSXML.objectType(object))</Type><Size>\(object.size)</Size>"
                + "<StorageClass>Standard</StorageClass>\(owner)</Contents>"
        }
        body += OSSXML.commonPrefixes(page.commonPrefixes, text)
        return OSSXML.response(call, body + "</ListBucketResult>")
    }

    /// The bucket, prefix and delimiter of a listing, once the caller may list them.
    func listing(_ call: ObjectCall, action: String) async throws
        -> (name: BucketName, bucket: BucketInfo, prefix: String, delimiter: String)
    {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        let prefix = call.query["prefix"] ?? "", delimiter = call.query["delimiter"] ?? ""
        try call.authorize(action, bucket: bucket, bucketName: name.value, context: ["oss:Prefix": prefix, "oss:Delimiter": delimiter])
        return (name, bucket, prefix, delimiter)
    }

    /// ListMultipartUploads: `GET /bucket?uploads`, the unfinished uploads in key order.
    func listMultipartUploads(_ call: ObjectCall) async throws -> Response {
        let (name, _, prefix, delimiter) = try await listing(call, action: "oss:ListMultipartUploads")
        let maxUploads = try OSSXML.integer(call.query["max-uploads"], name: "max-uploads", default: 1000, range: 1...1000)
        let request = UploadListRequest(prefix: prefix, delimiter: delimiter, keyMarker: call.query["key-marker"] ?? "",
                                        uploadIDMarker: call.query["upload-id-marker"] ?? "", maxUploads: maxUploads)
        let page = try await objects.listMultipartUploads(bucket: name, request)
        let text = OSSXML.keyText(call)
        var body = "<ListMultipartUploadsResult>" + OSSXML.element("Bucket", name.value)
            + OSSXML.element("KeyMarker", text(request.keyMarker)) + OSSXML.element("UploadIdMarker", request.uploadIDMarker)
            + OSSXML.element("NextKeyMarker", text(page.isTruncated ? page.nextKeyMarker : ""))
            + OSSXML.element("NextUploadIdMarker", page.isTruncated ? page.nextUploadIDMarker : "")
            + OSSXML.element("Delimiter", text(delimiter)) + OSSXML.element("Prefix", text(prefix))
            + "<MaxUploads>\(maxUploads)</MaxUploads><IsTruncated>\(page.isTruncated)</IsTruncated>"
        body += OSSXML.encodingType(call)
        for upload in page.uploads {
            body += "<Upload>" + OSSXML.element("Key", text(upload.key)) + OSSXML.element("UploadId", upload.id)
                + "<StorageClass>Standard</StorageClass><Initiated>\(OSSXML.time(upload.initiated))</Initiated></Upload>"
        }
        body += OSSXML.commonPrefixes(page.commonPrefixes, text)
        return OSSXML.response(call, body + "</ListMultipartUploadsResult>")
    }

    /// DeleteMultipleObjects: `POST /bucket/?delete` with the keys in XML; each key is authorized
    /// before any is deleted.
    func deleteMultipleObjects(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        let bucket = try await objects.bucket(name)
        let document = try await xmlBody(call, root: "Delete")
        let (objectKeys, quiet) = try ObjectBodies.deletion(document)
        for key in objectKeys { try call.authorize("oss:DeleteObject", bucket: bucket, bucketName: name.value, key: key.value) }
        let text = OSSXML.keyText(call)
        var body = "<DeleteResult>"
        body += OSSXML.encodingType(call)
        for key in objectKeys {
            try await objects.deleteObject(bucket: name, key: key)
            if !quiet { body += "<Deleted>" + OSSXML.element("Key", text(key.value)) + "</Deleted>" }
        }
        return OSSXML.response(call, body + "</DeleteResult>")
    }

    // MARK: Cross-origin rules

    func putBucketCORS(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:PutBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        let document = try await xmlBody(call, root: "CORSConfiguration", limit: 64 * 1024)
        try await objects.setCORSConfiguration(name, ObjectBodies.corsConfiguration(document))
        return OSSXML.empty(call, status: .ok)
    }

    func getBucketCORS(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:GetBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        guard let configuration = try await objects.corsConfiguration(name) else {
            throw WireError(status: .notFound, code: "NoSuchCORSConfiguration", message: "The CORS configuration does not exist.")
        }
        let body = ObjectBodies.corsRules(configuration.rules)
        return OSSXML.response(call, "<CORSConfiguration>\(body)<ResponseVary>\(configuration.responseVary)</ResponseVary></CORSConfiguration>")
    }

    func deleteBucketCORS(_ call: ObjectCall) async throws -> Response {
        let name = try call.bucketName
        try call.authorize("oss:DeleteBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        try await objects.setCORSConfiguration(name, nil)
        return OSSXML.empty(call, status: .noContent)
    }
}
