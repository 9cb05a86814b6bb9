import Foundation

/// JSON text placed into a response as it is, without parsing it first: stored documents go
/// out this way (parsing and re-serializing them cost more than the query that found them).
struct RawJSON: Sendable {
    let text: String
}

enum ResponseJSON {
    /// Serializes a response object whose values may contain `RawJSON` (at any depth of
    /// dictionaries and arrays).
    static func data(_ body: [String: any Sendable]) throws -> Data {
        var raws: [String] = []
        let marker = "@raw-\(UUID().uuidString)-"
        func replace(_ value: any Sendable) -> any Sendable {
            switch value {
            case let raw as RawJSON:
                raws.append(raw.text)
                return "\(marker)\(raws.count - 1)"
            case let object as [String: any Sendable]: return object.mapValues(replace)
            case let items as [any Sendable]: return items.map(replace)
            default: return value
            }
        }
        let replaced = body.mapValues(replace)
        let data = try JSONSerialization.data(withJSONObject: replaced, options: [.sortedKeys, .withoutEscapingSlashes])
        guard !raws.isEmpty else { return data }
        var text = String(decoding: data, as: UTF8.self)
        for (index, raw) in raws.enumerated() {
            text = text.replacingOccurrences(of: "\"\(marker)\(index)\"", with: raw)
        }
        return Data(text.utf8)
    }
}
