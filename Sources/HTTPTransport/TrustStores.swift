import CCurl
import FoundationEssentials
import KMeshSupport

/// The trust stores of clients given an extra CA (`TLSConfiguration.extraCAPEM`): the bundle and
/// the extra CA parsed into one OpenSSL store, once per process and configuration, and shared by
/// every TLS connection made with it (libcurl's `CURLOPT_SSL_CTX_FUNCTION`).
///
/// libcurl parses an in-memory CA blob again for every new connection, and a blob is all it can be
/// given for "the bundle and this CA": about 20 ms of CPU for a 140-certificate bundle, on the one
/// thread that runs every transfer of the process, so every other request waits meanwhile. libcurl
/// caches the store of a plain CA file itself (per multi handle, 24 hours), once no CA directory is
/// set beside it: the client sets none.
///
/// A store is kept for the life of the process, as libcurl keeps its own: a reconciler lives for
/// one pass, or for one warm Lambda environment (hours).
enum TrustStores {
    struct Key: Hashable {
        let bundle: String?
        let extra: Data
    }

    enum Entry {
        case store(OpaquePointer)
        /// The bundle or the PEM could not be loaded: the client hands libcurl the combined blob as
        /// before, and the transfer reports libcurl's own TLS error.
        case failed(String)
    }

    private static let entries = Locked<[Key: Entry]>([:])

    /// The shared store for `tls`; nil when it has no extra CA (libcurl's own handling then).
    static func entry(for tls: TLSConfiguration) -> Entry? {
        guard let extra = tls.extraCAPEM else { return nil }
        let key = Key(bundle: tls.caBundlePath, extra: extra)
        return entries.withLock { entries in
            if let found = entries[key] { return found }
            let entry = load(key)
            entries[key] = entry
            return entry
        }
    }

    /// How many stores this process has built with `bundle` (once per configuration).
    static func storesBuilt(bundle: String?) -> Int {
        entries.withLock { entries in
            entries.count { key, entry in
                if case .store = entry { key.bundle == bundle } else { false }
            }
        }
    }

    /// How many certificates `store` holds.
    static func count(_ store: OpaquePointer) -> Int { Int(kmesh_trust_store_count(store)) }

    private static func load(_ key: Key) -> Entry {
        var why = [CChar](repeating: 0, count: 512)
        let store = key.extra.withUnsafeBytes { pem in
            kmesh_trust_store_new(key.bundle, pem.baseAddress, pem.count, &why, why.count)
        }
        guard let store else { return .failed(why.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }) }
        return .store(store)
    }
}
