import HTTPTypes

/// The OSS operations Visage implements.
enum OSSOperation: Sendable, Equatable {
    case listBuckets
    case putBucket, deleteBucket, getBucketInfo, getBucketLocation, getBucketACL, putBucketACL
    case putBucketCORS, getBucketCORS, deleteBucketCORS
    case listObjects, deleteMultipleObjects, listMultipartUploads
    case putObject, copyObject, getObject, headObject, getObjectMeta, deleteObject
    case getObjectACL, putObjectACL, getObjectTagging, putObjectTagging, deleteObjectTagging
    case initiateMultipartUpload, uploadPart, uploadPartCopy, listParts, completeMultipartUpload, abortMultipartUpload
}

extension OSSOperation {
    /// Every OSS request Visage answers. Whatever else arrives (`?symlink`, `?lifecycle`,
    /// `?x-oss-process`, `?versionId`, …) is refused with NotImplemented before anything is read or
    /// written.
    static let table: OperationTable<OSSOperation> = {
        typealias Entry = OperationTable<OSSOperation>.Entry
        let copySource = HTTPField.Name("x-oss-copy-source")!
        let overrides: Set = ["response-content-type", "response-content-language", "response-expires", "response-cache-control",
                              "response-content-disposition", "response-content-encoding"]
        let entries: [Entry] = [
            Entry(.get, .service, .listBuckets, parameters: ["prefix", "marker", "max-keys"]),

            Entry(.put, .bucket, .putBucketACL, selectors: ["acl"]),
            Entry(.put, .bucket, .putBucketCORS, selectors: ["cors"]),
            Entry(.put, .bucket, .putBucket),
            Entry(.delete, .bucket, .deleteBucketCORS, selectors: ["cors"]),
            Entry(.delete, .bucket, .deleteBucket),
            Entry(.get, .bucket, .getBucketInfo, selectors: ["bucketInfo"]),
            Entry(.get, .bucket, .getBucketLocation, selectors: ["location"]),
            Entry(.get, .bucket, .getBucketACL, selectors: ["acl"]),
            Entry(.get, .bucket, .getBucketCORS, selectors: ["cors"]),
            Entry(.get, .bucket, .listMultipartUploads, selectors: ["uploads"],
                  parameters: ["prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"]),
            Entry(.get, .bucket, .listObjects,
                  parameters: ["prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token",
                               "start-after", "fetch-owner"]),
            Entry(.post, .bucket, .deleteMultipleObjects, selectors: ["delete"], parameters: ["encoding-type"]),

            Entry(.put, .object, .putObjectACL, selectors: ["acl"]),
            Entry(.put, .object, .putObjectTagging, selectors: ["tagging"]),
            Entry(.put, .object, .uploadPartCopy, selectors: ["uploadId", "partNumber"], header: copySource),
            Entry(.put, .object, .uploadPart, selectors: ["uploadId", "partNumber"]),
            Entry(.put, .object, .copyObject, header: copySource),
            Entry(.put, .object, .putObject),
            Entry(.get, .object, .getObjectACL, selectors: ["acl"]),
            Entry(.get, .object, .getObjectTagging, selectors: ["tagging"]),
            Entry(.get, .object, .listParts, selectors: ["uploadId"], parameters: ["max-parts", "part-number-marker", "encoding-type"]),
            Entry(.get, .object, .getObject, parameters: overrides),
            Entry(.head, .object, .getObjectMeta, selectors: ["objectMeta"]),
            Entry(.head, .object, .headObject),
            Entry(.post, .object, .initiateMultipartUpload, selectors: ["uploads"], parameters: ["encoding-type"]),
            Entry(.post, .object, .completeMultipartUpload, selectors: ["uploadId"], parameters: ["encoding-type"]),
            Entry(.delete, .object, .deleteObjectTagging, selectors: ["tagging"]),
            Entry(.delete, .object, .abortMultipartUpload, selectors: ["uploadId"]),
            Entry(.delete, .object, .deleteObject),
        ]
        // Credentials and signatures of the V1 and V4 presigned forms.
        let common: Set = ["OSSAccessKeyId", "Expires", "Signature", "security-token", "x-oss-signature-version",
                           "x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature", "x-oss-additional-headers",
                           "x-oss-security-token"]
        return OperationTable(common: common, entries: entries)
    }()

    /// Reads only: the operations an anonymous caller may perform on a public object.
    var isPublicRead: Bool { self == .getObject || self == .headObject || self == .getObjectMeta }
}
