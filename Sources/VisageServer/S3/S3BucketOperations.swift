import Foundation
import HTTPTypes
import Hummingbird
import VisageCore
import VisageStore

/// Buckets: list, create, describe, delete, cross-origin rules, and listings of objects.
extension S3Operations {
    func listBuckets(_ call: S3Call) async throws -> Response {
        let caller = try call.base.signer
        try call.base.authorize("oss:ListBuckets", bucket: nil, bucketName: "*")
        let prefix = call.query["prefix"] ?? ""
        let mine = try await objects.listBuckets().filter { $0.ownerAccount == caller.accountID && $0.name.hasPrefix(prefix) }
        let entries = mine.map { bucket in
            "<Bucket>" + OSSXML.element("Name", bucket.name) + "<CreationDate>\(OSSXML.time(bucket.created))</CreationDate></Bucket>"
        }.joined()
        return S3XML.response(call, root: "ListAllMyBucketsResult", S3XML.owner(caller.accountID) + "<Buckets>\(entries)</Buckets>")
    }

    /// CreateBucket; its optional `CreateBucketConfiguration` (a location) is read and ignored:
    /// this server has one location.
    func createBucket(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        let caller = try call.base.signer
        try call.base.authorize("oss:PutBucket", bucket: nil, bucketName: name.value)
        let acl = try call.headers[HTTPField.Name("x-amz-acl")!].map { text -> CannedACL in
            guard let acl = CannedACL(rawValue: text) else { throw S3Error.invalidArgument("x-amz-acl \(text) is not a canned ACL.") }
            return acl
        }
        let configuration = try await call.collect(limit: 64 * 1024)
        if !configuration.isEmpty, OSSXMLReader.parse(configuration)?.name != "CreateBucketConfiguration" { throw S3Error.malformedXML }
        if let existing = try? await objects.bucket(name), existing.ownerAccount == caller.accountID {
            throw WireError(status: .conflict, code: "BucketAlreadyOwnedByYou",
                            message: "Your previous request to create the named bucket succeeded and you already own it.")
        }
        _ = try await objects.createBucket(name, ownerAccount: caller.accountID)
        if let acl, acl != .private { try await objects.setBucketACL(name, acl) }
        return S3XML.empty(call, headers: [.location: "/\(name.value)"])
    }

    func headBucket(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:GetBucketInfo", bucket: try await objects.bucket(name), bucketName: name.value)
        return S3XML.empty(call, headers: [HTTPField.Name("x-amz-bucket-region")!: region(call)])
    }

    func deleteBucket(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:DeleteBucket", bucket: try await objects.bucket(name), bucketName: name.value)
        try await objects.deleteBucket(name)
        return S3XML.empty(call, status: .noContent)
    }

    /// Every bucket is where the caller signed for: this server has one location, and a client
    /// that follows the answer keeps signing for the region it already uses.
    func region(_ call: S3Call) -> String { call.signature?.scope?.region ?? "us-east-1" }

    func getBucketLocation(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:GetBucketLocation", bucket: try await objects.bucket(name), bucketName: name.value)
        // us-east-1 is written as an empty constraint.
        let region = region(call)
        return S3XML.response(call, root: "LocationConstraint", region == "us-east-1" ? "" : XML.escape(region))
    }

    // MARK: Cross-origin rules (shared with OSS: the same rules answer both dialects)

    func putBucketCors(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:PutBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        let document = try await xmlBody(call, root: "CORSConfiguration")
        try await objects.setCORSConfiguration(name, ObjectBodies.corsConfiguration(document))
        return S3XML.empty(call)
    }

    func getBucketCors(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:GetBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        guard let configuration = try await objects.corsConfiguration(name) else {
            throw WireError(status: .notFound, code: "NoSuchCORSConfiguration", message: "The CORS configuration does not exist.")
        }
        return S3XML.response(call, root: "CORSConfiguration", ObjectBodies.corsRules(configuration.rules))
    }

    func deleteBucketCors(_ call: S3Call) async throws -> Response {
        let name = try call.bucketName
        try call.base.authorize("oss:DeleteBucketCors", bucket: try await objects.bucket(name), bucketName: name.value)
        try await objects.setCORSConfiguration(name, nil)
        return S3XML.empty(call, status: .noContent)
    }

    // MARK: Listings

    /// ListObjects (v1: `marker`) and ListObjectsV2 (`list-type=2`: `continuation-token`, `start-after`).
    func listObjects(_ call: S3Call, version2: Bool) async throws -> Response {
        let (name, bucket, prefix, delimiter) = try await oss.listing(call.base, action: "oss:ListObjects")
        let maxKeys = try integer(call, "max-keys", default: 1000, range: 0...1000)
        var startAfter = call.query[version2 ? "start-after" : "marker"] ?? ""
        if version2, let token = call.query["continuation-token"] {
            guard let decoded = OSSXML.decodeToken(token), !token.isEmpty else {
                throw S3Error.invalidArgument("The continuation token provided is incorrect.")
            }
            startAfter = max(startAfter, decoded)
        }
        let page = try await objects.listObjects(
            bucket: name, ObjectListRequest(prefix: prefix, delimiter: delimiter, startAfter: startAfter, maxKeys: maxKeys))
        let text = S3XML.keyText(call)
        let owner = version2 && call.query["fetch-owner"] != "true" ? "" : S3XML.owner(bucket.ownerAccount)
        var body = OSSXML.element("Name", name.value) + OSSXML.element("Prefix", text(prefix))
        if version2 {
            if let token = call.query["continuation-token"] { body += OSSXML.element("ContinuationToken", token) }
            if let after = call.query["start-after"] { body += OSSXML.element("StartAfter", text(after)) }
            body += "<KeyCount>\(page.objects.count + page.commonPrefixes.count)</KeyCount>"
        } else {
            body += OSSXML.element("Marker", text(startAfter))
        }
        body += "<MaxKeys>\(maxKeys)</MaxKeys>"
        if !delimiter.isEmpty { body += OSSXML.element("Delimiter", text(delimiter)) }
        body += S3XML.encodingType(call) + "<IsTruncated>\(page.isTruncated)</IsTruncated>"
        if page.isTruncated, let next = page.nextMarker {
            body += version2 ? OSSXML.element("NextContinuationToken", OSSXML.encodeToken(next))
                : (delimiter.isEmpty ? "" : OSSXML.element("NextMarker", text(next)))
        }
        for object in page.objects {
            body += "<Contents>" + S3XML.entry(key: text(object.key), info: object, owner: owner) + "</Contents>"
        }
        body += OSSXML.commonPrefixes(page.commonPrefixes, text)
        return S3XML.response(call, root: "ListBucketResult", body)
    }

    /// ListMultipartUploads: `GET /bucket?uploads`, the unfinished uploads in key order.
    func listMultipartUploads(_ call: S3Call) async throws -> Response {
        let (name, bucket, prefix, delimiter) = try await oss.listing(call.base, action: "oss:ListMultipartUploads")
        let maxUploads = try integer(call, "max-uploads", default: 1000, range: 1...1000)
        let request = UploadListRequest(prefix: prefix, delimiter: delimiter, keyMarker: call.query["key-marker"] ?? "",
                                        uploadIDMarker: call.query["upload-id-marker"] ?? "", maxUploads: maxUploads)
        let page = try await objects.listMultipartUploads(bucket: name, request)
        let text = S3XML.keyText(call)
        var body = OSSXML.element("Bucket", name.value) + OSSXML.element("KeyMarker", text(request.keyMarker))
            + OSSXML.element("UploadIdMarker", request.uploadIDMarker)
            + OSSXML.element("NextKeyMarker", text(page.isTruncated ? page.nextKeyMarker : ""))
            + OSSXML.element("NextUploadIdMarker", page.isTruncated ? page.nextUploadIDMarker : "")
            + OSSXML.element("Prefix", text(prefix)) + (delimiter.isEmpty ? "" : OSSXML.element("Delimiter", text(delimiter)))
            + "<MaxUploads>\(maxUploads)</MaxUploads><IsTruncated>\(page.isTruncated)</IsTruncated>" + S3XML.encodingType(call)
        for upload in page.uploads {
            body += "<Upload>" + OSSXML.element("Key", text(upload.key)) + OSSXML.element("UploadId", upload.id)
                + S3XML.owner(bucket.ownerAccount).replacingOccurrences(of: "Owner>", with: "Initiator>") + S3XML.owner(bucket.ownerAccount)
                + "<StorageClass>STANDARD</StorageClass><Initiated>\(OSSXML.time(upload.initiated))</Initiated></Upload>"
        }
        body += OSSXML.commonPrefixes(page.commonPrefixes, text)
        return S3XML.response(call, root: "ListMultipartUploadsResult", body)
    }
}
