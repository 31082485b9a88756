/// Exact arithmetic helpers for the two JSON number representations.
///
/// Mixed `Int64`/`Double` comparisons must not simply convert the integer to
/// `Double`: above 2^53 that rounds and would, e.g., make
/// 9007199254740993 equal to 9007199254740992.0.
enum JSONNumber {
    /// Three-way comparison of an integer with a (finite or infinite) double.
    /// Returns -1, 0 or 1. NaN compares as unordered and yields 1.
    static func compare(integer: Int64, double: Double) -> Int {
        if double.isNaN { return 1 }
        // 2^63 is exactly representable; anything at or above it exceeds every Int64.
        if double >= 9_223_372_036_854_775_808.0 { return -1 }
        if double < -9_223_372_036_854_775_808.0 { return 1 }
        let truncated = double.rounded(.towardZero)
        // In range (checked above), so the conversion cannot trap.
        let whole = Int64(truncated)
        if integer < whole { return -1 }
        if integer > whole { return 1 }
        let fraction = double - truncated
        if fraction > 0 { return -1 }
        if fraction < 0 { return 1 }
        return 0
    }

    /// Three-way comparison of two JSON numbers; `nil` if either is not a number.
    static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> Int? {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)):
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.double(let a), .double(let b)):
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.integer(let a), .double(let b)):
            return compare(integer: a, double: b)
        case (.double(let a), .integer(let b)):
            return -compare(integer: b, double: a)
        default:
            return nil
        }
    }

    /// Whether `value` is an integer multiple of `divisor` (which is > 0).
    static func isMultiple(_ value: JSONValue, of divisor: JSONValue) -> Bool {
        if case .integer(let a) = value, case .integer(let b) = divisor {
            // Exact path; `b > 0` is guaranteed by schema compilation.
            return a % b == 0
        }
        guard let a = value.doubleValue, let b = divisor.doubleValue else { return false }
        let quotient = a / b
        guard quotient.isFinite else {
            // The quotient overflowed, so `a` is huge; `fmod` is exact and
            // decides it (1e308 is a multiple of 0.5, not of 0.123456789).
            return a.truncatingRemainder(dividingBy: b) == 0
        }
        let nearest = quotient.rounded()
        // Binary floating point cannot represent most decimal divisors exactly
        // (0.0075 / 0.0001 == 74.99999999999999), so accept a tiny relative error.
        return abs(quotient - nearest) <= Swift.max(1, abs(quotient)) * 1e-10
    }
}
