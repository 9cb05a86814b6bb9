import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageSigning
import VisageStore

/// OSS's XML bodies and the small value formats inside them.
enum OSSXML {
    static func element(_ name: String, _ value: String) -> String { "<\(name)>\(XML.escape(value))</\(name)>" }

    /// `2026-11-22T01:02:03.000Z`: listings need the literal `.000`.
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'.000Z'"
        return formatter.string(from: date)
    }

    /// `"UPPER-HEX-MD5"`, quoted, as OSS writes ETags (`"HEX-N"` for objects made of parts).
    static func etag(_ hex: String) -> String { "\"\(hex.uppercased())\"" }

    /// `Multipart` for objects assembled from parts, else `Normal`.
    static func objectType(_ info: ObjectInfo) -> String { info.isMultipart ? "Multipart" : "Normal" }

    /// How keys and prefixes are written in a response: percent-encoded when the request asked
    /// for `encoding-type=url` (the only way control characters can travel in XML), else as is.
    static func keyText(_ call: ObjectCall) -> @Sendable (String) -> String {
        let encode = call.query["encoding-type"] == "url"
        return { text in encode ? SigningText.percentEncode(text, keepSlash: true) : text }
    }

    static func integer(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text, !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw WireError(status: .badRequest, code: "InvalidArgument",
                            message: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    /// Continuation tokens are the last listed name, base64url-encoded so clients treat them as opaque.
    static func encodeToken(_ marker: String) -> String { Base64URL.encode(Data(marker.utf8)) }

    static func decodeToken(_ token: String) -> String? {
        Base64URL.decode(token).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// `<EncodingType>url</EncodingType>` when keys in the response are percent-encoded.
    static func encodingType(_ call: ObjectCall) -> String {
        call.query["encoding-type"] == "url" ? "<EncodingType>url</EncodingType>" : ""
    }

    static func commonPrefixes(_ prefixes: [String], _ text: (String) -> String) -> String {
        prefixes.map { "<CommonPrefixes>" + element("Prefix", text($0)) + "</CommonPrefixes>" }.joined()
    }

    static func response(_ call: ObjectCall, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
        return Response(status: status, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body)))
    }

    static func empty(_ call: ObjectCall, status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }
}

/// A parsed XML element: name, text and children. Enough for the request bodies OSS takes
/// (Delete, CompleteMultipartUpload, CORSConfiguration, Tagging).
///
/// Written here rather than on Foundation's XMLParser: OSS accepts object keys with control
/// characters (`\u{0C}`, `\u{01}`) raw inside `<Key>`, which strict XML 1.0 parsers refuse. This
/// reader takes any UTF-8 text, resolves only the five predefined and numeric character
/// references, and refuses document type declarations (so no entity is ever expanded).
struct OSSXMLReader {
    struct Element: Sendable {
        var name: String
        var text = ""
        var children: [Element] = []

        var trimmed: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

        func child(_ name: String) -> Element? { children.first { $0.name == name } }
        func children(_ name: String) -> [Element] { children.filter { $0.name == name } }
    }

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The root element, or nil when the bytes are not a well-formed document.
    static func parse(_ bytes: [UInt8]) -> Element? {
        var reader = OSSXMLReader(bytes)
        return reader.document()
    }

    private mutating func document() -> Element? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        var stack: [Element] = []
        var root: Element?
        var text: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "<") else {
                guard !stack.isEmpty else {
                    // Only whitespace may stand outside the root element.
                    guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return nil }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "&") {
                    guard let character = reference() else { return nil }
                    text += Array(character.utf8)
                } else {
                    text.append(byte)
                    index += 1
                }
                continue
            }
            // A construct that never closes ends the parse: each is scanned once, so a hostile
            // body costs time in proportion to its length.
            if let skipped = skip("<?", until: "?>") ?? skip("<!--", until: "-->") {
                guard skipped else { return nil }
                continue
            }
            if starts("<![CDATA[") {
                guard !stack.isEmpty, let end = find("]]>", from: index + 9) else { return nil }
                text += bytes[(index + 9)..<end]
                index = end + 3
                continue
            }
            if starts("<!") { return nil }
            if !stack.isEmpty {
                guard let decoded = String(validating: text, as: UTF8.self) else { return nil }
                stack[stack.count - 1].text += decoded
            }
            text = []
            if starts("</") {
                index += 2
                guard let name = name(), skipSpaces(), next(">"), let element = stack.popLast(), element.name == name else { return nil }
                if stack.isEmpty {
                    guard root == nil else { return nil }
                    root = element
                } else {
                    stack[stack.count - 1].children.append(element)
                }
                continue
            }
            index += 1
            guard let name = name(), let selfClosing = attributes() else { return nil }
            guard root == nil else { return nil }
            if selfClosing {
                if stack.isEmpty { root = Element(name: name) } else { stack[stack.count - 1].children.append(Element(name: name)) }
            } else {
                stack.append(Element(name: name))
            }
        }
        return stack.isEmpty ? root : nil
    }

    private func starts(_ literal: String) -> Bool { bytes[index...].starts(with: literal.utf8) }

    /// Where `literal` next occurs at or after `start`, looking no further than `limit` bytes.
    private func find(_ literal: String, from start: Int, within limit: Int = .max) -> Int? {
        let pattern = Array(literal.utf8)
        guard bytes.count >= pattern.count else { return nil }
        var position = start
        let last = start > bytes.count - limit ? bytes.count : start + limit
        while position + pattern.count <= last {
            if bytes[position..<(position + pattern.count)].elementsEqual(pattern) { return position }
            position += 1
        }
        return nil
    }

    /// Skips a construct from `open` to `close` when one starts here: nil when none starts here,
    /// false when it never closes.
    private mutating func skip(_ open: String, until close: String) -> Bool? {
        guard starts(open) else { return nil }
        guard let end = find(close, from: index + open.utf8.count) else { return false }
        index = end + close.utf8.count
        return true
    }

    private mutating func next(_ literal: Character) -> Bool {
        guard index < bytes.count, bytes[index] == literal.asciiValue else { return false }
        index += 1
        return true
    }

    @discardableResult
    private mutating func skipSpaces() -> Bool {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        return true
    }

    private mutating func name() -> String? {
        let start = index
        while index < bytes.count, !([0x20, 0x0A, 0x0D, 0x09] + Array("/>=\"'<&".utf8)).contains(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        return String(validating: bytes[start..<index], as: UTF8.self)
    }

    /// Skips a start tag's attributes; returns whether the tag closes itself, nil if malformed.
    private mutating func attributes() -> Bool? {
        while true {
            skipSpaces()
            if next(">") { return false }
            if starts("/>") {
                index += 2
                return true
            }
            guard name() != nil, skipSpaces(), next("="), skipSpaces(), index < bytes.count else { return nil }
            let quote = bytes[index]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
            index += 1
            while index < bytes.count, bytes[index] != quote { index += 1 }
            guard next(Character(UnicodeScalar(quote))) else { return nil }
        }
    }

    /// A character reference or predefined entity at `&`.
    private mutating func reference() -> String? {
        guard let end = find(";", from: index, within: 13) else { return nil }
        let body = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        index = end + 1
        switch body {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let number: UInt32?
            if body.hasPrefix("#x") || body.hasPrefix("#X") {
                number = UInt32(body.dropFirst(2), radix: 16)
            } else if body.hasPrefix("#") {
                number = UInt32(body.dropFirst())
            } else {
                number = nil
            }
            guard let number, number != 0, let scalar = Unicode.Scalar(number) else { return nil }
            return String(Character(scalar))
        }
    }
}
