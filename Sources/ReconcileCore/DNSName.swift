/// DNS names as Route 53 compares them: lower case, with the trailing dot, `\ddd` escapes decoded
/// and every byte outside `a-z 0-9 - _ .` written as a three-digit octal escape (`*` is `\052`),
/// which is how Route 53 returns names. Two spellings of one name have one canonical form.
public enum DNSName {
    public static func canonical(_ name: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(name.utf8)
        var i = 0
        while i < input.count {
            let b = input[i]
            if b == UInt8(ascii: "\\"), let value = octal(input, at: i + 1) {
                bytes.append(value)
                i += 4
                continue
            }
            if b == UInt8(ascii: "\\"), i + 1 < input.count {
                bytes.append(input[i + 1])  // `\.` and friends: the character itself
                i += 2
                continue
            }
            bytes.append(b)
            i += 1
        }
        var out = ""
        for b in bytes {
            let lower = (b >= 65 && b <= 90) ? b + 32 : b
            if isPlain(lower) {
                out.unicodeScalars.append(Unicode.Scalar(lower))
            } else {
                out += "\\" + String(repeating: "0", count: 3 - String(lower, radix: 8).count) + String(lower, radix: 8)
            }
        }
        if !out.hasSuffix(".") { out += "." }
        return out
    }

    /// `\ddd` at `index`: three octal digits, as Route 53 writes them.
    static func octal(_ bytes: [UInt8], at index: Int) -> UInt8? {
        guard index + 2 < bytes.count else { return nil }
        var value = 0
        for b in bytes[index...index + 2] {
            guard b >= 48, b <= 55 else { return nil }
            value = value * 8 + Int(b - 48)
        }
        return value <= 255 ? UInt8(value) : nil
    }

    static func isPlain(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 95 || b == 46
    }

    /// Whether `name` is `zone` or below it (both canonical).
    public static func isWithin(_ name: String, zone: String) -> Bool {
        name == zone || name.hasSuffix("." + zone)
    }

    /// Why `name` cannot be published, or nil: labels of 1 to 63 bytes, 255 in all.
    public static func problem(with canonical: String) -> String? {
        let labels = canonical.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        if canonical == "." || labels.contains(where: \.isEmpty) { return "the name has an empty label" }
        if canonical.utf8.count > 255 { return "the name is longer than 255 characters" }
        if labels.contains(where: { $0.utf8.count > 63 }) { return "a label is longer than 63 characters" }
        return nil
    }
}
