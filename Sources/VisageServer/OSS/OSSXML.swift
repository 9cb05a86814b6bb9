import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess

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

    /// `"UPPER-HEX-MD5"`, quoted, as OSS writes ETags.
    static func etag(_ hex: String) -> String { "\"\(hex.uppercased())\"" }

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

    static func response(_ call: OSSCall, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
        return Response(status: status, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body)))
    }

    static func empty(_ call: OSSCall, status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[HTTPField.Name("x-oss-request-id")!] = call.requestID
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }
}

/// A parsed XML element: name, text and children. Enough for the request bodies OSS takes
/// (Delete, CompleteMultipartUpload, CORSConfiguration); external entities are never resolved.
final class OSSXMLReader: NSObject, XMLParserDelegate {
    struct Element: Sendable {
        var name: String
        var text = ""
        var children: [Element] = []

        var trimmed: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

        func child(_ name: String) -> Element? { children.first { $0.name == name } }
        func children(_ name: String) -> [Element] { children.filter { $0.name == name } }
    }

    private var stack: [Element] = []
    private var root: Element?

    static func parse(_ bytes: [UInt8]) -> Element? {
        let reader = OSSXMLReader()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse() else { return nil }
        return reader.root
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        stack.append(Element(name: name))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let element = stack.popLast() else { return }
        if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
    }
}
