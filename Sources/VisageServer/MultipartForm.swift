import Foundation

/// A `multipart/form-data` body (RFC 7578) read whole: each part's name, file name, media type
/// and bytes, in order. Malformed bodies are refused, never half read.
struct MultipartForm: Sendable {
    struct Part: Sendable {
        let name: String
        let fileName: String?
        let contentType: String?
        let body: [UInt8]
    }

    let parts: [Part]

    /// The first part named `name` (names compared exactly, as the services do).
    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    static func boundary(ofContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.utf8.count > 70 ? nil : value
            }
        }
        return nil
    }

    enum Problem: Error, Equatable { case malformed(String) }

    init(body: [UInt8], boundary: String) throws {
        let delimiter = Array("--\(boundary)".utf8)
        var position = 0
        guard let first = Self.find(delimiter, in: body, from: 0) else { throw Problem.malformed("no boundary line") }
        position = first + delimiter.count
        var parts: [Part] = []
        while true {
            // After a delimiter: `--` ends the body, CRLF starts a part.
            if body.count >= position + 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") { break }
            guard body.count >= position + 2, body[position] == 13, body[position + 1] == 10 else {
                throw Problem.malformed("a boundary line is not followed by a line break")
            }
            position += 2
            guard let headerEnd = Self.find([13, 10, 13, 10], in: body, from: position) else {
                throw Problem.malformed("a part's headers do not end")
            }
            let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
            position = headerEnd + 4
            guard let next = Self.find([13, 10] + delimiter, in: body, from: position) else {
                throw Problem.malformed("a part does not end with the boundary")
            }
            parts.append(try Self.part(headers: headers, body: Array(body[position..<next])))
            position = next + 2 + delimiter.count
            guard parts.count <= 64 else { throw Problem.malformed("more than 64 parts") }
        }
        self.parts = parts
    }

    private static func part(headers: String, body: [UInt8]) throws -> Part {
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in headers.components(separatedBy: "\r\n") where !line.isEmpty {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw Problem.malformed("a part header has no colon") }
            switch pair[0].lowercased() {
            case "content-disposition":
                for parameter in pair[1].split(separator: ";").dropFirst() {
                    let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2 else { continue }
                    let value = kv[1].count >= 2 && kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") ? String(kv[1].dropFirst().dropLast()) : kv[1]
                    switch kv[0].lowercased() {
                    case "name": name = value
                    case "filename": fileName = value
                    default: break
                    }
                }
            case "content-type": contentType = pair[1]
            default: break
            }
        }
        guard let name else { throw Problem.malformed("a part has no name") }
        return Part(name: name, fileName: fileName, contentType: contentType, body: body)
    }

    /// First index of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
