import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads without Foundation's FileManager (absent from FoundationEssentials builds
/// in some configurations, and heavier than needed).
public enum FileReader {
    public static func read(_ path: String, limit: Int = 16 << 20) -> Data? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count <= limit {
            let n = fread(&buffer, 1, buffer.count, f)
            if n > 0 { data.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count { break }
        }
        return data.count > limit ? nil : data
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
