import VisageCore

/// Builds one listing page from a key-ordered scan, rolling keys up into common prefixes at the
/// delimiter. Comparisons are on UTF-8 bytes, the order object listings are defined in.
enum ObjectListing {
    /// Fetches up to `limit` objects with key after (or at, if `inclusive`) the cursor, in order.
    typealias Scan = @Sendable (_ cursor: String, _ inclusive: Bool, _ limit: Int) async throws -> [ObjectInfo]

    /// Above every character a key can continue with, so `prefix + ceiling` skips a rolled-up group.
    static let ceiling = "\u{10FFFF}"

    static func page(_ request: ObjectListRequest, scan: Scan) async throws -> ObjectListPage {
        var page = ObjectListPage()
        let maxKeys = max(0, min(request.maxKeys, 1000))
        let rollUp = RollUp(prefix: request.prefix, delimiter: request.delimiter)
        // Start at the later of the prefix itself (inclusive) and the marker (exclusive).
        var cursor = request.startAfter
        var inclusive = false
        if request.startAfter.utf8.lexicographicallyPrecedes(request.prefix.utf8) {
            cursor = request.prefix
            inclusive = true
        }
        var lastPrefix = rollUp.markerGroup(request.startAfter)
        if let lastPrefix { cursor = String(decoding: lastPrefix, as: UTF8.self) + ceiling }
        var count = 0
        scanning: while true {
            let batch = try await scan(cursor, inclusive, 500)
            for object in batch {
                let key = Array(object.key.utf8)
                guard key.starts(with: rollUp.prefix) else { break scanning }
                if let lastPrefix, key.starts(with: lastPrefix) { continue }
                let rolledUp = rollUp.group(of: key)
                if count == maxKeys {
                    page.isTruncated = true
                    break scanning
                }
                count += 1
                if let rolledUp {
                    let text = String(decoding: rolledUp, as: UTF8.self)
                    page.commonPrefixes.append(text)
                    page.nextMarker = text
                    lastPrefix = rolledUp
                } else {
                    page.objects.append(object)
                    page.nextMarker = object.key
                }
            }
            guard batch.count == 500, let last = batch.last else { break }
            cursor = lastPrefix.map { String(decoding: $0, as: UTF8.self) + ceiling } ?? last.key
            if let lastPrefix, !last.key.utf8.starts(with: lastPrefix) { cursor = last.key }
            inclusive = false
        }
        if !page.isTruncated { page.nextMarker = nil }
        return page
    }

    /// A page of unfinished uploads from all those past the markers, in order.
    static func uploads(_ uploads: [MultipartUpload], _ request: UploadListRequest) -> UploadListPage {
        var page = UploadListPage()
        let maxUploads = max(0, min(request.maxUploads, 1000))
        let rollUp = RollUp(prefix: request.prefix, delimiter: request.delimiter)
        var lastPrefix = rollUp.markerGroup(request.keyMarker)
        for upload in uploads {
            let key = Array(upload.key.utf8)
            if let lastPrefix, key.starts(with: lastPrefix) { continue }
            let rolledUp = rollUp.group(of: key)
            if page.uploads.count + page.commonPrefixes.count == maxUploads {
                page.isTruncated = true
                break
            }
            if let rolledUp {
                let text = String(decoding: rolledUp, as: UTF8.self)
                page.commonPrefixes.append(text)
                (page.nextKeyMarker, page.nextUploadIDMarker) = (text, "")
                lastPrefix = rolledUp
            } else {
                page.uploads.append(upload)
                (page.nextKeyMarker, page.nextUploadIDMarker) = (upload.key, upload.id)
            }
        }
        return page
    }
}

/// Where keys roll up into common prefixes: at the first delimiter after the prefix.
struct RollUp {
    let prefix: [UInt8]
    let delimiter: [UInt8]

    init(prefix: String, delimiter: String) {
        self.prefix = Array(prefix.utf8)
        self.delimiter = Array(delimiter.utf8)
    }

    /// The common prefix `key` rolls up into, or nil when it is listed as itself.
    func group(of key: [UInt8]) -> [UInt8]? {
        guard !delimiter.isEmpty, key.starts(with: prefix), let range = key[prefix.count...].firstRange(of: delimiter) else {
            return nil
        }
        return Array(key[..<range.upperBound])
    }

    /// The group a marker falls in: it was listed on an earlier page (a page that ends on a common
    /// prefix names it as the marker), so the next page must not list it again.
    func markerGroup(_ marker: String) -> [UInt8]? {
        marker.isEmpty ? nil : group(of: Array(marker.utf8))
    }
}
