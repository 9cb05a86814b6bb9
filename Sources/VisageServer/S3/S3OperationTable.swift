import HTTPTypes

/// The S3 operations Visage implements.
enum S3Operation: String, Sendable, Equatable {
    case listBuckets
    case createBucket, headBucket, deleteBucket, getBucketLocation
    case putBucketCors, getBucketCors, deleteBucketCors
    case listObjects, listObjectsV2, deleteObjects, listMultipartUploads
    case putObject, copyObject, getObject, headObject, deleteObject
    case createMultipartUpload, uploadPart, uploadPartCopy, listParts, completeMultipartUpload, abortMultipartUpload
}

extension S3Operation {
    /// Every S3 request Visage answers. Whatever else arrives (`?tagging`, `?acl`, `?versioning`,
    /// `?lifecycle`, `?versionId`, …) is refused with NotImplemented before anything is read or
    /// written.
    static let table: OperationTable<S3Operation> = {
        typealias Entry = OperationTable<S3Operation>.Entry
        let overrides: Set = ["response-content-type", "response-content-language", "response-expires", "response-cache-control",
                              "response-content-disposition", "response-content-encoding"]
        let listing: Set = ["prefix", "delimiter", "max-keys", "encoding-type"]
        let entries: [Entry] = [
            Entry(.get, .service, .listBuckets, parameters: ["prefix", "max-buckets", "continuation-token", "bucket-region"]),

            Entry(.put, .bucket, .putBucketCors, selectors: ["cors"]),
            Entry(.put, .bucket, .createBucket),
            Entry(.head, .bucket, .headBucket),
            Entry(.delete, .bucket, .deleteBucketCors, selectors: ["cors"]),
            Entry(.delete, .bucket, .deleteBucket),
            Entry(.get, .bucket, .getBucketLocation, selectors: ["location"]),
            Entry(.get, .bucket, .getBucketCors, selectors: ["cors"]),
            Entry(.get, .bucket, .listMultipartUploads, selectors: ["uploads"],
                  parameters: ["prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"]),
            Entry(.get, .bucket, .listObjectsV2, selectors: ["list-type"],
                  parameters: listing.union(["continuation-token", "start-after", "fetch-owner"])),
            Entry(.get, .bucket, .listObjects, parameters: listing.union(["marker"])),
            Entry(.post, .bucket, .deleteObjects, selectors: ["delete"]),

            Entry(.put, .object, .uploadPartCopy, selectors: ["uploadId", "partNumber"], header: .amzCopySource),
            Entry(.put, .object, .uploadPart, selectors: ["uploadId", "partNumber"]),
            Entry(.put, .object, .copyObject, header: .amzCopySource),
            Entry(.put, .object, .putObject),
            Entry(.get, .object, .listParts, selectors: ["uploadId"], parameters: ["max-parts", "part-number-marker", "encoding-type"]),
            Entry(.get, .object, .getObject, parameters: overrides),
            Entry(.head, .object, .headObject),
            Entry(.post, .object, .createMultipartUpload, selectors: ["uploads"]),
            Entry(.post, .object, .completeMultipartUpload, selectors: ["uploadId"]),
            Entry(.delete, .object, .abortMultipartUpload, selectors: ["uploadId"]),
            Entry(.delete, .object, .deleteObject),
        ]
        // Credentials and signature of the presigned forms (Version 4 and 2), and the id boto3
        // adds to each try.
        let common: Set = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                           "X-Amz-Signature", "X-Amz-Security-Token", "AWSAccessKeyId", "Expires", "Signature",
                           "x-amz-security-token", "x-id"]
        return OperationTable(common: common, entries: entries)
    }()
}
