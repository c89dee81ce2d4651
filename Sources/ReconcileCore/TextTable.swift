import KMeshSupport

/// A table for people: every column but the last padded to its widest cell plus two spaces (the last
/// one, usually a reason, runs free), one line per row, each ending in a newline. Cells are made
/// printable first (a peer's error text in a reason cannot split a row).
public enum TextTable {
    public static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map { $0.printableLine(limit: 1000) } }
        guard let columns = rows.first?.count, columns > 0 else { return "" }
        var widths = [Int](repeating: 0, count: columns - 1)
        for r in rows { for i in 0..<(columns - 1) { widths[i] = max(widths[i], r[i].count) } }
        var out = ""
        for r in rows {
            var line = ""
            for i in 0..<(columns - 1) { line += r[i] + String(repeating: " ", count: widths[i] - r[i].count + 2) }
            out += line + r[columns - 1] + "\n"
        }
        return out
    }
}
