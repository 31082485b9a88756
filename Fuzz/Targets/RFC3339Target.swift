import DabbaEvents
import Foundation

extension FuzzTarget {
    /// Bytes through `RFC3339.parse`; a parsed date is formatted and parsed again.
    public static let rfc3339 = FuzzTarget(
        name: "rfc3339",
        summary: "a timestamp: RFC3339.parse (bytes and string forms agree), format/parse round trip",
        run: RFC3339Target.run,
        generate: RFC3339Target.generate,
        tokens: RFC3339Target.tokens
    )
}

enum RFC3339Target {
    /// The dates `RFC3339.format` writes without clamping: 0000-01-01 up to the end of 9999.
    static let formattable =
        Date(timeIntervalSince1970: -62_167_219_200)...Date(timeIntervalSince1970: 253_402_300_799.999)

    static func run(_ input: [UInt8]) throws {
        let parsed = input.withUnsafeBufferPointer { RFC3339.parse(utf8: $0) }
        // A string holding the same bytes reads the same (when the bytes are UTF-8; otherwise the string differs).
        if let text = String(validating: input, as: UTF8.self) {
            let fromString = RFC3339.parse(text)
            try check(
                fromString == parsed,
                "parse(utf8:) gave \(String(describing: parsed)) but parse(String) \(String(describing: fromString))"
                    + " for '\(text)'"
            )
            let substring = RFC3339.parse(("x" + text).dropFirst())
            try check(substring == parsed, "a Substring parsed differently for '\(text)'")
        }
        guard let date = parsed else { return }
        try check(date.timeIntervalSince1970.isFinite, "parsed a non-finite date from \(input)")
        let formatted = RFC3339.format(date)
        guard let again = RFC3339.parse(formatted) else {
            throw FuzzFailure("format wrote '\(formatted)', which does not parse (from \(input))")
        }
        try check(formatted.utf8.count == 24, "format wrote '\(formatted)'")
        if formattable.contains(date) {
            // Written with milliseconds, rounded down.
            let difference = date.timeIntervalSince1970 - again.timeIntervalSince1970
            try check(
                difference >= -0.000_001 && difference < 0.001_001,
                "round trip moved \(date.timeIntervalSince1970) to \(again.timeIntervalSince1970) via '\(formatted)'"
            )
        }
    }

    static let tokens = ["-", ":", ".", "T", "Z", "+", "9", "\u{0}", "٣", "１", "60", "29", "2024-02-29"]

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        func digits(_ count: Int, _ random: inout FuzzRandom) -> String {
            String((0..<count).map { _ in Character(String(random.below(10))) })
        }
        var text: String
        if random.oneIn(3) {
            text = JSONGenerator.timestamp(&random)
        } else {
            let year = random.pick(["0000", "0001", "1969", "1970", "2024", "2100", "9999", digits(4, &random)])
            let month = random.pick(["01", "02", "12", "00", "13", digits(2, &random)])
            let day = random.pick(["01", "28", "29", "30", "31", "00", "32", digits(2, &random)])
            let hour = random.pick(["00", "23", "24", digits(2, &random)])
            let minute = random.pick(["00", "59", "60"])
            let second = random.pick(["00", "59", "60", "61"])
            let fraction = random.pick(["", ".1", ".123", ".999999999", ".", "." + digits(random.below(30), &random)])
            let zone = random.pick(["Z", "z", "+00:00", "-23:59", "+24:00", "+05:30", "+0530", "", "+05:60"])
            let separator = random.pick(["T", "t", " ", "_"])
            text = "\(year)-\(month)-\(day)\(separator)\(hour):\(minute):\(second)\(fraction)\(zone)"
        }
        return Mutation.mutate(Array(text.utf8), tokens: tokens, &random)
    }
}
