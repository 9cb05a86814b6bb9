import Foundation

/// A JSON document as a value: for stored documents whose fields are queried by path and for
/// parameters that arrive as JSON text.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text (objects, arrays or scalars); nil when it is not JSON.
    public init?(parsing text: String) {
        // JSONSerialization is several times faster here than a Decodable walk, which tries
        // each type in turn and pays for a thrown error at every miss.
        guard let any = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let value = JSONValue(serialized: any)
        else { return nil }
        self = value
    }

    /// Converts what `JSONSerialization` produces; nil for anything else.
    init?(serialized any: Any) {
        switch any {
        case is NSNull: self = .null
        case let text as String: self = .string(text)
        case let number as NSNumber:
            // Booleans arrive as NSNumber too, with the objCType of a char.
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) } else { self = .number(number.doubleValue) }
        case let items as [Any]:
            var values: [JSONValue] = []
            values.reserveCapacity(items.count)
            for item in items {
                guard let value = JSONValue(serialized: item) else { return nil }
                values.append(value)
            }
            self = .array(values)
        case let members as [String: Any]:
            var fields: [String: JSONValue] = [:]
            fields.reserveCapacity(members.count)
            for (name, item) in members {
                guard let value = JSONValue(serialized: item) else { return nil }
                fields[name] = value
            }
            self = .object(fields)
        default: return nil
        }
    }

    /// The value as `JSONSerialization` takes it (integral numbers as integers).
    public var any: any Sendable {
        switch self {
        case .null: return NSNull()
        case let .bool(value): return value
        case let .number(value):
            if value.rounded() == value, abs(value) < 9e15 { return Int(value) }
            return value
        case let .string(value): return value
        case let .array(items): return items.map(\.any)
        case let .object(fields): return fields.mapValues(\.any)
        }
    }

    /// Compact JSON text with sorted keys.
    public var text: String {
        guard let data = try? JSONSerialization.data(withJSONObject: any, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public subscript(key: String) -> JSONValue? {
        if case let .object(fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case let .number(value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case let .object(fields) = self { return fields }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(items): try container.encode(items)
        case let .object(fields): try container.encode(fields)
        }
    }
}
