import Foundation
import HTTPTypes
import VisageCore
import VisageStore

/// What OSS and S3 requests carry alike (S3's came first; OSS kept them): a new object's
/// attributes under each dialect's header names, cross-origin rules, the keys of a multiple
/// delete, and the parts of a completed upload.
enum ObjectBodies {
    /// A new object's or upload's attributes: content type, user metadata (`metaPrefix` + name),
    /// `Content-MD5`, a canned access rule (read by the dialect's `readACL`) and tags (`k=v&…`).
    static func attributes(_ headers: HTTPFields, metaPrefix: String, acl: String, tagging: String, defaultType: String,
                           maxBytes: Int64, readACL: (String) throws -> CannedACL?) throws -> ObjectAttributes {
        // A body declared larger than an object may be is refused before a byte of it is read
        // (for S3's aws-chunked uploads the declared object size is the decoded length).
        for name in ["x-amz-decoded-content-length", "Content-Length"] {
            if let text = headers[HTTPField.Name(name)!], let declared = Int64(text), declared > maxBytes {
                throw VisageError.tooLarge(field: "body", limit: Int(clamping: maxBytes))
            }
        }
        var metadata: [String: String] = [:]
        for field in headers where field.name.canonicalName.hasPrefix(metaPrefix) {
            metadata[String(field.name.canonicalName.dropFirst(metaPrefix.count))] = field.value
        }
        var attributes = ObjectAttributes(contentType: headers[.contentType] ?? defaultType, userMetadata: metadata, maxBytes: maxBytes)
        if let md5 = headers[HTTPField.Name("Content-MD5")!] {
            guard let digest = Data(base64Encoded: md5), digest.count == 16 else {
                throw WireError(status: .badRequest, code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.")
            }
            attributes.expectedMD5 = Array(digest)
        }
        if let text = headers[HTTPField.Name(acl)!] { attributes.acl = try readACL(text) }
        if let text = headers[HTTPField.Name(tagging)!] {
            attributes.tags = FormEncoding.decode(text).map { ObjectTag(key: $0.0, value: $0.1) }
        }
        return attributes
    }

    /// `<CORSConfiguration>` with its `<CORSRule>`s (and OSS's `<ResponseVary>`).
    static func corsConfiguration(_ document: OSSXMLReader.Element) -> CORSConfiguration {
        let rules = document.children("CORSRule").map { rule in
            CORSRule(allowedOrigins: rule.children("AllowedOrigin").map(\.trimmed),
                     allowedMethods: rule.children("AllowedMethod").map(\.trimmed),
                     allowedHeaders: rule.children("AllowedHeader").map(\.trimmed),
                     exposeHeaders: rule.children("ExposeHeader").map(\.trimmed),
                     maxAgeSeconds: rule.child("MaxAgeSeconds").flatMap { Int($0.trimmed) })
        }
        let vary = document.child("ResponseVary")?.trimmed.lowercased() == "true"
        return CORSConfiguration(rules: rules, responseVary: vary)
    }

    /// The rules as `<CORSRule>` elements.
    static func corsRules(_ rules: [CORSRule]) -> String {
        var body = ""
        for rule in rules {
            let elements: [(String, [String])] = [("AllowedOrigin", rule.allowedOrigins), ("AllowedMethod", rule.allowedMethods),
                                                  ("AllowedHeader", rule.allowedHeaders), ("ExposeHeader", rule.exposeHeaders)]
            body += "<CORSRule>"
            for (name, values) in elements { body += values.map { OSSXML.element(name, $0) }.joined() }
            if let age = rule.maxAgeSeconds { body += "<MaxAgeSeconds>\(age)</MaxAgeSeconds>" }
            body += "</CORSRule>"
        }
        return body
    }

    /// The keys of `<Delete>` (1 to 1000) and whether the answer is quiet.
    static func deletion(_ document: OSSXMLReader.Element) throws -> (keys: [ObjectKey], quiet: Bool) {
        let keys = document.children("Object").compactMap { $0.child("Key")?.text }
        guard !keys.isEmpty, keys.count <= 1000 else {
            throw WireError(status: .badRequest, code: "MalformedXML", message: "Name 1 to 1000 objects to delete.")
        }
        return (try keys.map { try ObjectKey($0) }, document.child("Quiet")?.trimmed.lowercased() == "true")
    }

    /// The `<Part>`s of `<CompleteMultipartUpload>`, ETags unquoted.
    static func completedParts(_ document: OSSXMLReader.Element) throws -> [(number: Int, etag: String)] {
        try document.children("Part").map { part -> (number: Int, etag: String) in
            guard let number = part.child("PartNumber").flatMap({ Int($0.trimmed) }), let etag = part.child("ETag")?.trimmed else {
                throw WireError(status: .badRequest, code: "MalformedXML", message: "Each Part needs a PartNumber and an ETag.")
            }
            return (number, etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
    }
}
