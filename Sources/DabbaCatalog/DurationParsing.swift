/// Parses the short durations used by `x-dabba-retry` (`250ms`, `30s`, `5m`, `1h`).
enum DurationParsing {
    /// Unit suffixes and their length in milliseconds, longest suffix first so `ms` wins over `m`.
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
    ]

    /// Parses `<digits><unit>` where unit is `ms`, `s`, `m` or `h`.
    /// - Parameter text: The duration text, for example `30s`.
    /// - Returns: The duration, or `nil` when the text is not of that form, is negative, or overflows.
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingWhitespace()
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let digits = trimmed.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let amount = Int64(digits)
            else { return nil }
            let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow else { return nil }
            return .milliseconds(milliseconds)
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
