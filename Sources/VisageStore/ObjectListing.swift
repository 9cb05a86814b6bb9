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
        let prefix = Array(request.prefix.utf8)
        let delimiter = Array(request.delimiter.utf8)
        // Start at the later of the prefix itself (inclusive) and the marker (exclusive).
        var cursor = request.startAfter
        var inclusive = false
        if request.startAfter.utf8.lexicographicallyPrecedes(request.prefix.utf8) {
            cursor = request.prefix
            inclusive = true
        }
        var count = 0
        var lastPrefix: [UInt8]?
        scanning: while true {
            let batch = try await scan(cursor, inclusive, 500)
            for object in batch {
                let key = Array(object.key.utf8)
                guard key.starts(with: prefix) else { break scanning }
                if let lastPrefix, key.starts(with: lastPrefix) { continue }
                var rolledUp: [UInt8]?
                if !delimiter.isEmpty, let range = key[prefix.count...].firstRange(of: delimiter) {
                    rolledUp = Array(key[..<range.upperBound])
                }
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
}
