/// Percentiles by the nearest-rank method.
public enum Percentile {
    /// The `p`-th percentile of values.
    /// - Parameters:
    ///   - p: 0–100.
    ///   - values: The values (any order).
    /// - Returns: The nearest-rank percentile, or 0 for no values.
    public static func of(_ p: Double, _ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
