import Foundation
import HTTPTypes
import VisageCore
import VisageStore

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
