import Foundation
import HTTPTypes

/// S3's legacy Signature Version 2: `Authorization: AWS AK:base64(HMAC-SHA1)`, or a presigned
/// `AWSAccessKeyId=…&Expires=…&Signature=…` query (what boto3's `generate_presigned_url` writes
/// unless told to use SigV4). It signs no body, so its payload is unsigned.
extension S3Signature {
    /// The sub-resources and overrides that take part in the signed resource.
    static let version2Subresources: Set<String> = [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy", "requestPayment",
        "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId", "response-content-type",
        "response-content-language", "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "delete", "lifecycle", "tagging", "restore", "storageClass", "notification", "replication",
        "analytics", "metrics", "inventory", "select", "select-type", "object-lock",
    ]

    static func version2Header(_ input: Input, authorization: String) throws -> S3Signature {
        let credential = authorization.dropFirst("AWS ".count)
        guard let colon = credential.lastIndex(of: ":") else { throw S3Error.authorizationMalformed("The Authorization header is malformed.") }
        // x-amz-date, when sent, stands for Date (and is signed among the x-amz- headers).
        let dateText = input.headers[.amzDate] ?? input.headers[.date]
        guard let dateText, let date = HTTPDates.parse(dateText) ?? compactDate(dateText) else {
            throw S3Error.accessDenied("The Date or x-amz-date header is missing or malformed.")
        }
        let dateLine = input.headers[.amzDate] == nil ? dateText : ""
        return S3Signature(accessKeyID: String(credential[..<colon]), securityToken: input.headers[.amzSecurityToken],
                           signedAt: date, expires: nil, notBefore: nil, payload: .unsigned, date: dateText, scope: nil,
                           signature: String(credential[credential.index(after: colon)...]),
                           stringToSign: version2StringToSign(input, dateLine: dateLine, queryHeaders: [:]), isVersion2: true)
    }

    static func version2Query(_ input: Input, query: [String: String]) throws -> S3Signature {
        guard let accessKeyID = query["AWSAccessKeyId"], let signature = query["Signature"], let expiresText = query["Expires"],
              let seconds = TimeInterval(expiresText)
        else { throw S3Error.authorizationQueryMalformed("A presigned URL needs AWSAccessKeyId, Expires and Signature.") }
        let expires = Date(timeIntervalSince1970: seconds)
        // A URL valid for longer than SigV4 allows is refused here too.
        guard expires.timeIntervalSinceNow <= maxExpires else {
            throw S3Error.authorizationQueryMalformed("Expires must be at most seven days ahead.")
        }
        // boto3 carries the token (and any x-amz- header it signed) in the query.
        let queryHeaders = query.filter { $0.key.lowercased().hasPrefix("x-amz-") }
        return S3Signature(accessKeyID: accessKeyID, securityToken: query["x-amz-security-token"] ?? input.headers[.amzSecurityToken],
                           signedAt: nil, expires: expires, notBefore: nil, payload: .unsigned, date: expiresText, scope: nil,
                           signature: signature,
                           stringToSign: version2StringToSign(input, dateLine: expiresText, queryHeaders: queryHeaders), isVersion2: true)
    }

    /// Method, Content-MD5, Content-Type, the date line, the x-amz- headers (`name:value`, sorted)
    /// and the resource: the path as sent (a bucket's as `/bucket/`) and the signed
    /// sub-resources, sorted.
    static func version2StringToSign(_ input: Input, dateLine: String, queryHeaders: [String: String]) -> String {
        var amz: [String: [String]] = [:]
        for field in input.headers where field.name.canonicalName.hasPrefix("x-amz-") {
            amz[field.name.canonicalName, default: []].append(field.value.trimmingCharacters(in: .whitespaces))
        }
        for (name, value) in queryHeaders { amz[name.lowercased(), default: []].append(value) }
        let amzLines = amz.keys.sorted().map { "\($0):\(amz[$0]!.joined(separator: ","))\n" }.joined()
        var resource = input.rawPath.isEmpty ? "/" : input.rawPath
        // A bucket itself is signed as `/bucket/`, whether or not the path ends with a slash.
        if resource.dropFirst().firstIndex(of: "/") == nil, resource != "/" { resource += "/" }
        let signed = input.query.filter { version2Subresources.contains($0.0) }.sorted { $0.0 < $1.0 }
            .map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }
        if !signed.isEmpty { resource += "?" + signed.joined(separator: "&") }
        return [input.method.rawValue, input.headers[HTTPField.Name("Content-MD5")!] ?? "", input.headers[.contentType] ?? "", dateLine]
            .joined(separator: "\n") + "\n" + amzLines + resource
    }
}
