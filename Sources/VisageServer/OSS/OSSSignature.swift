import Foundation
import HTTPTypes
import VisageCore
import VisageSigning

/// The credentials and signature of an object API request, in the four forms the official OSS
/// SDKs send: V1 (`Authorization: OSS AK:sig`, HMAC-SHA1) and V4 (`OSS4-HMAC-SHA256`), each in a
/// header or in a presigned URL.
struct OSSSignature: Sendable {
    let accessKeyID: String
    let securityToken: String?
    /// Signing time of header forms, checked against the clock-skew window.
    let signedAt: Date?
    /// End of validity of presigned forms.
    let expires: Date?
    let matches: @Sendable (_ secret: String) -> Bool

    /// Query parameters that are part of V1's canonical resource (oss2's sub-resource set).
    static let subresources: Set<String> = [
        "acl", "uploads", "location", "cors", "logging", "website", "referer", "lifecycle", "delete", "append", "tagging",
        "objectMeta", "uploadId", "partNumber", "security-token", "position", "img", "style", "styleName", "replication",
        "replicationProgress", "replicationLocation", "cname", "bucketInfo", "comp", "qos", "live", "status", "vod",
        "startTime", "endTime", "symlink", "x-oss-process", "response-content-type", "response-content-language",
        "response-expires", "response-cache-control", "response-content-disposition", "response-content-encoding",
        "udf", "udfName", "udfImage", "udfId", "udfImageDesc", "udfApplication", "udfApplicationLog", "restore", "callback",
        "callback-var", "continuation-token", "policy", "stat", "encryption", "versions", "versioning", "versionId",
        "requestPayment", "x-oss-request-payer", "sequential", "inventory", "inventoryId",
        "asyncFetch", "worm", "wormId", "wormExtend", "withHashContext", "x-oss-enable-md5", "x-oss-enable-sha1",
        "x-oss-enable-sha256", "x-oss-hash-ctx", "x-oss-md5-ctx", "transferAcceleration", "regionList", "cloudboxes",
        "x-oss-ac-source-ip", "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow", "metaQuery",
        "resourceGroup", "rtc", "x-oss-async-process", "responseHeader", "group", "link", "objectInfo", "x-oss-traffic-limit",
        "qosInfo", "x-oss-write-get-object-response", "bucketArchiveDirectRead", "httpsConfig", "redundancyTransition",
        "x-oss-target-redundancy-type", "x-oss-redundancy-transition-taskid", "accessPoint", "accessPointPolicy",
        "publicAccessBlock", "x-oss-access-point-name", "requesterQosInfo", "qosRequester", "resourcePoolInfo", "resourcePool",
        "resourcePoolBuckets",
    ]

    /// The request as the signature schemes see it: decoded bucket and key, query pairs, headers.
    struct Input: Sendable {
        var method: HTTPRequest.Method
        var bucket: String?
        var key: String?
        var query: [(String, String)]
        var headers: HTTPFields
    }

    /// Reads the signature; nil when the request carries none (anonymous).
    static func read(_ input: Input) throws -> OSSSignature? {
        let query = Dictionary(input.query, uniquingKeysWith: { first, _ in first })
        if let authorization = input.headers[.authorization] {
            if authorization.hasPrefix("OSS4-HMAC-SHA256 ") { return try v4Header(input, authorization: authorization) }
            if authorization.hasPrefix("OSS ") { return try v1Header(input, authorization: authorization) }
            throw OSSError.accessDenied("The Authorization header uses an unsupported signature scheme.")
        }
        if query["x-oss-signature-version"] != nil { return try v4Query(input, query: query) }
        if query["OSSAccessKeyId"] != nil { return try v1Query(input, query: query) }
        return nil
    }

    // MARK: V1

    static func v1Header(_ input: Input, authorization: String) throws -> OSSSignature {
        let credential = authorization.dropFirst("OSS ".count)
        guard let colon = credential.lastIndex(of: ":") else { throw OSSError.accessDenied("The Authorization header is malformed.") }
        let accessKeyID = String(credential[..<colon]), signature = String(credential[credential.index(after: colon)...])
        let dateText = input.headers[HTTPField.Name("x-oss-date")!] ?? input.headers[.date]
        guard let dateText, let date = HTTPDates.parse(dateText) else {
            throw OSSError.accessDenied("The Date header is missing or malformed.")
        }
        let text = v1StringToSign(input, dateLine: dateText, extraSubresources: [])
        return OSSSignature(accessKeyID: accessKeyID, securityToken: input.headers[HTTPField.Name("x-oss-security-token")!],
                            signedAt: date, expires: nil) { secret in
            SigningText.constantTimeEqual(SigningText.hmacSHA1Base64(secret, text), signature)
        }
    }

    static func v1Query(_ input: Input, query: [String: String]) throws -> OSSSignature {
        guard let accessKeyID = query["OSSAccessKeyId"], let signature = query["Signature"],
              let expiresText = query["Expires"], let seconds = TimeInterval(expiresText)
        else { throw OSSError.accessDenied("A presigned URL needs OSSAccessKeyId, Expires and Signature.") }
        let text = v1StringToSign(input, dateLine: expiresText, extraSubresources: [])
        return OSSSignature(accessKeyID: accessKeyID, securityToken: query["security-token"], signedAt: nil,
                            expires: Date(timeIntervalSince1970: seconds)) { secret in
            SigningText.constantTimeEqual(SigningText.hmacSHA1Base64(secret, text), signature)
        }
    }

    static func v1StringToSign(_ input: Input, dateLine: String, extraSubresources: [String]) -> String {
        var ossHeaders: [(String, String)] = []
        for field in input.headers where field.name.canonicalName.hasPrefix("x-oss-") {
            ossHeaders.append((field.name.canonicalName, field.value))
        }
        let canonicalHeaders = ossHeaders.sorted { $0.0 < $1.0 }.map { "\($0.0):\($0.1)\n" }.joined()
        var resource = "/"
        if let bucket = input.bucket { resource += "\(bucket)/\(input.key ?? "")" }
        let signedParameters = input.query.filter { subresources.contains($0.0) }.sorted { $0.0 < $1.0 }
            .map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }
        if !signedParameters.isEmpty { resource += "?" + signedParameters.joined(separator: "&") }
        return [input.method.rawValue, input.headers[HTTPField.Name("Content-MD5")!] ?? "", input.headers[.contentType] ?? "",
                dateLine].joined(separator: "\n") + "\n" + canonicalHeaders + resource
    }

    // MARK: V4

    /// `AK/yyyymmdd/region/oss/aliyun_v4_request`.
    static func credentialScope(_ credential: String) throws -> CredentialScope {
        guard let scope = CredentialScope.parse(credential, service: "oss", terminator: "aliyun_v4_request") else {
            throw OSSError.accessDenied("The credential scope is malformed: it must name a key, a date, a region, oss and aliyun_v4_request.")
        }
        return scope
    }

    static func v4Header(_ input: Input, authorization: String) throws -> OSSSignature {
        let fields = AuthorizationParameters.parse(authorization, scheme: "OSS4-HMAC-SHA256") ?? [:]
        guard let credential = fields["Credential"], let signature = fields["Signature"] else {
            throw OSSError.accessDenied("The Authorization header needs Credential and Signature.")
        }
        let scope = try credentialScope(credential)
        guard let dateText = input.headers[HTTPField.Name("x-oss-date")!], let date = compactDate(dateText) else {
            throw OSSError.accessDenied("The x-oss-date header is missing or malformed.")
        }
        let additional = fields["AdditionalHeaders"].map { $0.split(separator: ";").map { $0.lowercased() } } ?? []
        let payload = input.headers[HTTPField.Name("x-oss-content-sha256")!] ?? "UNSIGNED-PAYLOAD"
        let text = v4StringToSign(input, query: input.query, additional: additional, payload: payload, date: dateText, scope: scope)
        return OSSSignature(accessKeyID: scope.accessKeyID, securityToken: input.headers[HTTPField.Name("x-oss-security-token")!],
                            signedAt: date, expires: nil) { secret in
            SigningText.constantTimeEqual(scope.signature(secret: secret, prefix: "aliyun_v4", stringToSign: text), signature.lowercased())
        }
    }

    static func v4Query(_ input: Input, query: [String: String]) throws -> OSSSignature {
        guard query["x-oss-signature-version"] == "OSS4-HMAC-SHA256", let credential = query["x-oss-credential"],
              let dateText = query["x-oss-date"], let date = compactDate(dateText),
              let expiresText = query["x-oss-expires"], let seconds = TimeInterval(expiresText), let signature = query["x-oss-signature"]
        else { throw OSSError.accessDenied("A presigned V4 URL needs x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature.") }
        let scope = try credentialScope(credential)
        let additional = query["x-oss-additional-headers"].map { $0.split(separator: ";").map { $0.lowercased() } } ?? []
        let text = v4StringToSign(input, query: input.query.filter { $0.0 != "x-oss-signature" }, additional: additional,
                                  payload: "UNSIGNED-PAYLOAD", date: dateText, scope: scope)
        return OSSSignature(accessKeyID: scope.accessKeyID, securityToken: query["x-oss-security-token"], signedAt: nil,
                            expires: date.addingTimeInterval(seconds)) { secret in
            SigningText.constantTimeEqual(scope.signature(secret: secret, prefix: "aliyun_v4", stringToSign: text), signature.lowercased())
        }
    }

    static func v4StringToSign(_ input: Input, query: [(String, String)], additional: [String], payload: String, date: String,
                               scope: CredentialScope) -> String {
        var uri = "/"
        if let bucket = input.bucket { uri += "\(bucket)/\(input.key ?? "")" }
        var headers: [(name: String, value: String)] = []
        for field in input.headers {
            let name = field.name.canonicalName
            if name.hasPrefix("x-oss-") || name == "content-type" || name == "content-md5" || additional.contains(name) {
                headers.append((name, field.value))
            }
        }
        let request = CanonicalRequest.text(
            method: input.method.rawValue, uri: SigningText.percentEncode(uri, keepSlash: true),
            query: CanonicalRequest.query(query, bareEmpty: true), headers: CanonicalRequest.headers(headers),
            signedHeaders: additional, payload: payload)
        return ["OSS4-HMAC-SHA256", date, scope.scope, SigningText.sha256Hex(Data(request.utf8))].joined(separator: "\n")
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func compactDate(_ text: String) -> Date? {
        guard DateText.parseable(text) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: text)
    }
}

/// HTTP dates (`Sat, 05 Dec 2015 11:10:29 GMT`), read and written.
enum HTTPDates {
    static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }

    static func parse(_ text: String) -> Date? { DateText.parseable(text) ? formatter().date(from: text) : nil }

    static func format(_ date: Date) -> String { formatter().string(from: date) }
}
