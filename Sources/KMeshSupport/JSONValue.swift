import FoundationEssentials

/// Any JSON value. Used where the project must keep what it does not understand, such as the other
/// keys of a secret whose `token` it replaces.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Inside a Codable document (a Kuma item's `spec`): the type is found by trying each in turn,
    /// and every wrong try costs a thrown error, so the likeliest come first (most values are
    /// strings, then numbers). A whole document is read faster by `JSONValue.parse`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            self = .array(try c.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public subscript(key: String) -> JSONValue? { objectValue?[key] }
}

public enum JSON {
    /// Deterministic encoding (sorted keys, no escaped slashes): stable bytes for signing and tests.
    public static func encode(_ value: some Encodable) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }

    /// JSONDecoder, behind one guard: FoundationEssentials (Swift 6.3) traps, instead of throwing,
    /// on a document whose 513th nested array opens at its very last byte (its depth error points
    /// past the end), so a peer could stop the process with 513 `[`. A document that ends with an
    /// open bracket is never valid JSON: it is refused here as JSONDecoder refuses the others.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let last = data.last(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
            last == UInt8(ascii: "[") || last == UInt8(ascii: "{")
        {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "The given data was not valid JSON: it ends inside an open array or object."))
        }
        return try JSONDecoder().decode(type, from: data)
    }

    /// A JSON string literal for `s`, quotes included. For hand-built lines such as log records.
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
