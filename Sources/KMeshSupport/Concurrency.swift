/// Runs `body` over `items` with at most `limit` in flight; the results come back in input order.
/// Every reconciler fans out its reads and writes through this, so that one flag bounds the
/// requests in flight against AWS and the control plane.
public func withBoundedConcurrency<T: Sendable, R: Sendable>(
    _ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R
) async -> [R] {
    guard !items.isEmpty else { return [] }
    return await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        for _ in 0..<min(max(limit, 1), items.count) {
            let i = next
            group.addTask { (i, await body(items[i])) }
            next += 1
        }
        for await (i, r) in group {
            results[i] = r
            if next < items.count {
                let j = next
                group.addTask { (j, await body(items[j])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements (the last may be shorter), for APIs that
    /// take a bounded batch: DescribeTasks 100, BatchGetSecretValue 20.
    public func chunked(into size: Int) -> [[Element]] {
        precondition(size > 0, "a chunk holds at least one element")
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
