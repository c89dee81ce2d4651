import FoundationEssentials

/// An element of a parsed XML document: local name, namespace URI, attributes, child elements and
/// the element's own character data (entities decoded, CDATA kept literally).
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var namespace: String?
    public var attributes: [String: String]
    public var children: [XMLElement]
    public var text: String

    public init(
        name: String, namespace: String? = nil, attributes: [String: String] = [:],
        children: [XMLElement] = [], text: String = ""
    ) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    public func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// The text of the child called `name`.
    public func value(_ name: String) -> String? { child(name)?.text }
    /// The first element called `name` at any depth below this one (breadth first).
    public func find(_ name: String) -> XMLElement? {
        var queue = children[...]
        var next: [XMLElement] = []
        while true {
            for c in queue {
                if c.name == name { return c }
                next.append(contentsOf: c.children)
            }
            if next.isEmpty { return nil }
            queue = next[...]
            next = []
        }
    }
}

public struct XMLParseError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public let offset: Int
    public var description: String { "malformed XML at byte \(offset): \(message)" }
}

/// A small, strict XML 1.0 parser for service responses: elements, attributes, namespaces
/// (default and prefixed, scoped), the five predefined entities and numeric character references,
/// CDATA, comments and processing instructions. DTDs are skipped and never expanded, so entity
/// expansion attacks are impossible.
public struct XMLParser {
    private let b: [UInt8]
    private var i = 0

    public static func parse(_ data: Data) throws -> XMLElement {
        var p = XMLParser(bytes: Array(data))
        return try p.document()
    }

    public static func parse(_ text: String) throws -> XMLElement { try parse(Data(text.utf8)) }

    init(bytes: [UInt8]) { b = bytes }

    private func fail(_ m: String) -> XMLParseError { XMLParseError(message: m, offset: i) }

    mutating func document() throws -> XMLElement {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        try skipMisc()
        guard i < b.count, b[i] == 60 else { throw fail("expected the root element") }
        let root = try element(scopes: [["xml": "http://www.w3.org/XML/1998/namespace"]])
        try skipMisc()
        guard i == b.count else { throw fail("content after the root element") }
        return root
    }

    private mutating func skipSpace() { while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 } }

    private func at(_ s: String) -> Bool { b[i...].starts(with: s.utf8) }

    private mutating func skip(past terminator: String) throws {
        let t = Array(terminator.utf8)
        while i < b.count {
            if b[i...].starts(with: t) {
                i += t.count
                return
            }
            i += 1
        }
        throw fail("unterminated construct, expected \(terminator)")
    }

    /// Whitespace, comments, processing instructions and a DOCTYPE outside the root element.
    private mutating func skipMisc() throws {
        while true {
            skipSpace()
            if i >= b.count { return }
            if at("<?") {
                try skip(past: "?>")
            } else if at("<!--") {
                try skip(past: "-->")
            } else if at("<!DOCTYPE") {
                var depth = 0
                while i < b.count {
                    if b[i] == 91 {
                        depth += 1
                    } else if b[i] == 93 {
                        depth -= 1
                    } else if b[i] == 62, depth <= 0 {
                        i += 1
                        break
                    }
                    i += 1
                }
            } else {
                return
            }
        }
    }

    private mutating func name() throws -> String {
        let start = i
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 47 || c == 62 || c == 61 || c == 60 { break }
            i += 1
        }
        guard i > start else { throw fail("expected a name") }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    private mutating func element(scopes: [[String: String]]) throws -> XMLElement {
        i += 1  // <
        let qname = try name()
        var rawAttributes: [(String, String)] = []
        var selfClosing = false
        while true {
            skipSpace()
            guard i < b.count else { throw fail("unterminated start tag <\(qname)>") }
            if b[i] == 62 {
                i += 1
                break
            }
            if b[i] == 47 {
                guard i + 1 < b.count, b[i + 1] == 62 else { throw fail("expected /> in <\(qname)>") }
                i += 2
                selfClosing = true
                break
            }
            let attrName = try name()
            skipSpace()
            guard i < b.count, b[i] == 61 else { throw fail("expected = after attribute \(attrName)") }
            i += 1
            skipSpace()
            guard i < b.count, b[i] == 34 || b[i] == 39 else { throw fail("expected a quoted value for \(attrName)") }
            let quote = b[i]
            i += 1
            let start = i
            while i < b.count, b[i] != quote {
                if b[i] == 60 { throw fail("< in attribute value") }
                i += 1
            }
            guard i < b.count else { throw fail("unterminated attribute value") }
            rawAttributes.append((attrName, try Self.decodeEntities(b[start..<i], at: start)))
            i += 1
        }

        var scope = scopes.last ?? [:]
        var attributes: [String: String] = [:]
        for (n, v) in rawAttributes {
            if n == "xmlns" {
                scope[""] = v
            } else if n.hasPrefix("xmlns:") {
                scope[String(n.dropFirst(6))] = v
            } else {
                attributes[Self.local(n)] = v
            }
        }
        let prefix = qname.firstIndex(of: ":").map { String(qname[..<$0]) } ?? ""
        let namespace = scope[prefix]
        if !prefix.isEmpty, namespace == nil { throw fail("undeclared namespace prefix \(prefix)") }
        var element = XMLElement(
            name: Self.local(qname), namespace: namespace?.isEmpty == true ? nil : namespace,
            attributes: attributes)
        if selfClosing { return element }

        let innerScopes = scopes + [scope]
        var text = [UInt8]()
        while true {
            guard i < b.count else { throw fail("unterminated element <\(qname)>") }
            if b[i] == 60 {
                if at("</") {
                    i += 2
                    let closing = try name()
                    guard closing == qname else { throw fail("</\(closing)> does not close <\(qname)>") }
                    skipSpace()
                    guard i < b.count, b[i] == 62 else { throw fail("expected > after </\(closing)") }
                    i += 1
                    break
                } else if at("<!--") {
                    try skip(past: "-->")
                } else if at("<![CDATA[") {
                    i += 9
                    let start = i
                    try skip(past: "]]>")
                    text.append(contentsOf: b[start..<(i - 3)])
                } else if at("<?") {
                    try skip(past: "?>")
                } else {
                    element.children.append(try self.element(scopes: innerScopes))
                }
            } else {
                let start = i
                while i < b.count, b[i] != 60 { i += 1 }
                text.append(contentsOf: Array(try Self.decodeEntities(b[start..<i], at: start).utf8))
            }
        }
        element.text = String(decoding: text, as: UTF8.self)
        return element
    }

    static func local(_ qname: String) -> String {
        qname.firstIndex(of: ":").map { String(qname[qname.index(after: $0)...]) } ?? qname
    }

    static func decodeEntities(_ s: ArraySlice<UInt8>, at offset: Int) throws -> String {
        guard s.contains(38) else { return String(decoding: s, as: UTF8.self) }
        var out = [UInt8]()
        var i = s.startIndex
        while i < s.endIndex {
            guard s[i] == 38 else {
                out.append(s[i])
                i += 1
                continue
            }
            guard let semi = s[i...].firstIndex(of: 59), semi - i <= 12 else {
                throw XMLParseError(message: "unterminated entity reference", offset: offset + (i - s.startIndex))
            }
            let ref = String(decoding: s[(i + 1)..<semi], as: UTF8.self)
            switch ref {
            case "lt": out.append(60)
            case "gt": out.append(62)
            case "amp": out.append(38)
            case "quot": out.append(34)
            case "apos": out.append(39)
            default:
                var scalar: UInt32?
                if ref.hasPrefix("#x") || ref.hasPrefix("#X") {
                    scalar = UInt32(ref.dropFirst(2), radix: 16)
                } else if ref.hasPrefix("#") {
                    scalar = UInt32(ref.dropFirst(), radix: 10)
                }
                guard let v = scalar, let u = Unicode.Scalar(v) else {
                    throw XMLParseError(message: "unknown entity &\(ref);", offset: offset + (i - s.startIndex))
                }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            }
            i = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Builds an XML document element by element, in the order the caller writes them (Route 53
/// requires its model's element order).
public struct XMLWriter {
    public private(set) var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

    public init() {}

    public mutating func element(_ name: String, namespace: String? = nil, _ body: (inout XMLWriter) -> Void) {
        output += namespace.map { "<\(name) xmlns=\"\(Self.escape($0))\">" } ?? "<\(name)>"
        body(&self)
        output += "</\(name)>"
    }

    /// `<name>text</name>`; nothing when `text` is nil.
    public mutating func leaf(_ name: String, _ text: String?) {
        guard let text else { return }
        output += "<\(name)>\(Self.escape(text))</\(name)>"
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
