import Foundation
import Testing

@testable import KMeshSupport

struct JSONParserTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try JSONValue.parse(
            #" {"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","n":-12.5e1,"z":0,"t":true,"f":false,"x":null,"a":[1,[],{}],"o":{"k":"v"}} "#)
        #expect(
            value
                == .object([
                    "s": .string("a\"b\\c/d\n\té😀"), "n": .number(-125), "z": .number(0), "t": .bool(true), "f": .bool(false),
                    "x": .null, "a": .array([.number(1), .array([]), .object([:])]), "o": .object(["k": .string("v")]),
                ]))
        #expect(try JSONValue.parse("\"plain\"") == .string("plain"))
        #expect(try JSONValue.parse("7") == .number(7))
        #expect(try JSONValue.parse(#"{"k":1,"k":2}"#) == .object(["k": .number(2)]), "a repeated key keeps its last value")
        #expect(try JSONValue.parse(Array("[\"é\"]".utf8)) == .array([.string("é")]))
    }

    /// The same documents through JSONDecoder (the Codable route the parser replaces) give the same
    /// values: the two agree on what JSON is.
    @Test(arguments: [
        #"{"token":"eyJ.x.y","other":{"n":[1,2.5,-3e2,true,null]},"u":"\u0041\u00df\u4e2d"}"#,
        #"[{"a":{"b":{"c":[[[]]]}}},"",0.000001,1E+2,-0]"#, #"{"name":"web","labels":{"kuma.io/zone":"z1"}}"#,
    ])
    func agreesWithJSONDecoder(_ text: String) throws {
        #expect(try JSONValue.parse(text) == JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "unexpected end of input"), (#"{"a":1,}"#, "expected a string key"),
        ("[1,]", "unexpected character"), ("01", "a number with a leading zero"), ("-", "unexpected end of input in a number"),
        ("1.", "a number needs digits after '.'"), ("1e", "a number needs digits in its exponent"), ("NaN", "unexpected character"),
        ("1e400", "a number out of range"), ("\"a\u{01}b\"", "a control character inside a string must be escaped"),
        (#""\ud800""#, "a high surrogate escape without its low surrogate"), (#""\udc00""#, "a lone low surrogate escape"),
        (#""\x""#, "an unknown escape sequence"), (#""\u12zz""#, #"a \u escape needs four hex digits"#), ("tru", "unexpected end of input"),
        ("{} {}", "unexpected data after the value"), (#"{"a" 1}"#, "expected ':' after a key"),
        ("[1 2]", "expected ',' or ']' in an array"),
        ("\"abc", "unexpected end of input inside a string"), ("'a'", "unexpected character"),
    ])
    func refusesWhatIsNotJSON(_ text: String, _ reason: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        do {
            _ = try JSONValue.parse(text)
        } catch {
            #expect(error.reason == reason, "\(text)")
        }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
        let deepest = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        _ = try JSONValue.parse(deepest)
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONParseError.self) { try JSONValue.parse(tooDeep) }
        let bomb = String(repeating: #"{"a":"#, count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bomb) }
    }

    /// FoundationEssentials traps on 513 `[` and nothing after them (found by FuzzJSON): a Kuma or
    /// AWS answer shaped so must be an error from `JSON.decode`, not the end of the process.
    @Test(arguments: ["", " \n", "{"])
    func decodeRefusesWhatWouldStopJSONDecoder(_ extra: String) throws {
        struct Answer: Decodable { var items: [JSONValue] }
        let trap = String(repeating: "[", count: 513) + extra
        #expect(throws: DecodingError.self) { try JSON.decode(Answer.self, from: Data(trap.utf8)) }
        #expect(throws: DecodingError.self) { try JSON.decode(JSONValue.self, from: Data(trap.utf8)) }
        #expect(try JSON.decode(Answer.self, from: Data(#"{"items":[[[]],{}]}"#.utf8)).items.count == 2)
    }
}
