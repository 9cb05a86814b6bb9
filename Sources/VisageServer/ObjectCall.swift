import Foundation
import Hummingbird
import VisageAccess
import VisageCore
import VisageStore

/// One request of an object API (OSS or S3), with its decoded names and who signed it (nil:
/// anonymous, allowed only to read objects their access rule makes public). Both dialects
/// authorize through it, so one policy governs both: the same `oss:` actions on the same
/// `acs:oss:*:ACCOUNT:bucket/key` resources.
struct ObjectCall: Sendable {
    let request: Request
    let bucket: String?
    let key: String?
    let query: [String: String]
    let caller: Caller?
    let sourceIP: String?
    let requestID: String

    /// Both object dialects name a refusal `AccessDenied` (403).
    static func denied(_ message: String) -> WireError {
        WireError(status: .forbidden, code: "AccessDenied", message: message)
    }

    func has(_ subresource: String) -> Bool { query[subresource] != nil }

    var bucketName: BucketName {
        get throws { try BucketName(bucket ?? "") }
    }

    /// The account that signed; refuses an anonymous request.
    var signer: Caller {
        get throws {
            guard let caller else { throw Self.denied("Anonymous access is not allowed: sign the request.") }
            return caller
        }
    }

    /// Refuses the request unless the caller's policies allow `action` on the bucket (or an
    /// object of it). Buckets belong to one account; other accounts are never let in, except to
    /// read what a public access rule (`readACL`, passed by reads only) opens to everyone.
    func authorize(_ action: String, bucket: BucketInfo?, bucketName: String, key: String? = nil,
                   context extra: [String: String] = [:], readACL: CannedACL? = nil) throws {
        let isPublic = readACL?.opensReads == true
        guard let caller else {
            if isPublic { return }
            throw Self.denied("Anonymous access is not allowed: sign the request.")
        }
        if let bucket, bucket.ownerAccount != caller.accountID {
            if isPublic { return }
            throw Self.denied("The bucket \(bucketName) belongs to another account.")
        }
        var resource = "acs:oss:*:\(caller.accountID):\(bucketName)"
        if let key { resource += "/\(key)" }
        let context = AccessRequest.standardContext(now: Date(), sourceIP: sourceIP).merging(extra) { _, new in new }
        switch caller.decide(AccessRequest(action: action, resource: resource, context: context)) {
        case .allow: return
        case .implicitDeny where isPublic: return
        case .implicitDeny, .explicitDeny:
            throw Self.denied("You have no right to access this object because of bucket acl or RAM policy (\(action) on \(resource)).")
        }
    }
}

