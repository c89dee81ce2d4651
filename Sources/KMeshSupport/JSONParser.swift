import FoundationEssentials

/// Why a document is not JSON, and where (a byte offset).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "not valid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// The deepest nesting accepted (JSONDecoder's limit too): deeper input is refused rather than
    /// allowed to exhaust the stack.
    public static let maximumDepth = 512

    /// Reads one JSON document (RFC 8259: any value at the top, whitespace around it) straight into
    /// a `JSONValue`. The Codable route (`JSONDecoder` with `init(from:)`) has to guess each value's
    /// type by trying them in turn, and every wrong guess builds a thrown error: on a secret value
    /// or a JWT payload that is most of a warm pass's decoding time. Strict: invalid UTF-8,
    /// unescaped control characters, lone surrogates, leading zeros, `NaN`, trailing commas and
    /// anything after the value are errors. A repeated object key keeps its last value, as Go's
    /// encoding/json does (the ECS agent, which hands a secret's JSON key to the sidecar, is Go):
    /// what is judged is what the sidecar will read.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        try parse(bytes, refusingRepeatedKeys: false)
    }

    /// `refusingRepeatedKeys`: a repeated key is an error (for comparing with readers that keep the
    /// first value, such as JSONDecoder).
    static func parse(_ bytes: some Collection<UInt8>, refusingRepeatedKeys: Bool) throws(JSONParseError) -> JSONValue {
        let array = bytes as? [UInt8] ?? Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            var reader = JSONReader(buffer)
            reader.refusingRepeatedKeys = refusingRepeatedKeys
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.error("unexpected data after the value") }
            return value
        }
    }

    /// `parse` over a string's UTF-8.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

private struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var refusingRepeatedKeys = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8 { bytes[index] }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard !atEnd else { throw error("unexpected end of input") }
        switch current {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("unexpected end of input") }
        for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw error("unexpected character") }
        index += count
        return value
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested more than \(JSONValue.maximumDepth) deep") }
        index += 1  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else {
                throw atEnd ? error("unexpected end of input") : error("expected a string key")
            }
            let keyAt = index
            let key = try string()
            if refusingRepeatedKeys, members[key] != nil { throw JSONParseError(offset: keyAt, reason: "a repeated key") }
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: ":") else {
                throw atEnd ? error("unexpected end of input") : error("expected ':' after a key")
            }
            index += 1
            skipWhitespace()
            members[key] = try value(depth: depth)
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of input") }
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested more than \(JSONValue.maximumDepth) deep") }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of input") }
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// At the opening quote; returns the decoded text and leaves the index after the closing one.
    mutating func string() throws(JSONParseError) -> String {
        index += 1  // "
        let start = index
        // The common case: no escapes, so the bytes between the quotes are the string.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let text = try utf8(start, index)
                index += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a control character inside a string must be escaped") }
            index += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "a string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard !atEnd else { throw error("unexpected end of input") }
                let e = current
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try unicodeEscape()
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    index -= 1
                    throw error("an unknown escape sequence")
                }
            default:
                if b < 0x20 { throw error("a control character inside a string must be escaped") }
                out.append(b)
                index += 1
            }
        }
        throw error("unexpected end of input inside a string")
    }

    func utf8(_ from: Int, _ to: Int) throws(JSONParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[from..<to])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw JSONParseError(offset: from, reason: "a string is not valid UTF-8")
        }
        return text
    }

    /// After `\u`: four hex digits, and a low surrogate's `\uXXXX` after a high one.
    mutating func unicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800...0xDBFF).contains(first) {
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("a high surrogate escape without its low surrogate")
            }
            index += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw error("a high surrogate escape without its low surrogate") }
            let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            return Unicode.Scalar(value)!  // always in 0x10000...0x10FFFF
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("a lone low surrogate escape") }
        return scalar
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("unexpected end of input in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func number() throws(JSONParseError) -> Double {
        let start = index
        func digits(_ r: inout JSONReader) -> Int {
            let from = r.index
            while r.index < r.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.bytes[r.index]) { r.index += 1 }
            return r.index - from
        }
        if current == UInt8(ascii: "-") { index += 1 }
        guard !atEnd else { throw error("unexpected end of input in a number") }
        if current == UInt8(ascii: "0") {
            index += 1
            if !atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(current) { throw error("a number with a leading zero") }
        } else if digits(&self) == 0 {
            throw error("a number needs digits")
        }
        if !atEnd, current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("a number needs digits after '.'") }
        }
        if !atEnd, current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if !atEnd, current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(offset: start, reason: "a number out of range")
        }
        return value
    }
}
