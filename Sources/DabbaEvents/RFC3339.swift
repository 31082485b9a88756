import Foundation

/// RFC 3339 timestamps as Dabba writes them: UTC, millisecond precision, `Z` suffix
/// (`2026-11-21T08:43:10.123Z`). Parsing accepts any RFC 3339 form: with or without fractional seconds (up to
/// nanoseconds), `Z` or a numeric offset, and a lowercase `t`/`z`.
public enum RFC3339 {
    /// Formats a date as `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC (years 0000 to 9999; dates outside are clamped).
    /// - Parameter date: The date.
    /// - Returns: The timestamp.
    public static func format(_ date: Date) -> String {
        String(unsafeUninitializedCapacity: length) { write(date, into: $0) }
    }

    /// The length of a formatted timestamp.
    static let length = 24

    /// Appends the formatted timestamp's UTF-8 bytes (for header values and JSON, without a `String` between).
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            _ = write(date, into: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Writes the timestamp into the first ``length`` bytes of `buffer`; returns how many were written.
    private static func write(_ date: Date, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        // RFC 3339 has four-digit years: dates outside 0000-01-01 ... 9999-12-31 are clamped to that range.
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let totalMilliseconds = Int64(min(max(milliseconds, -62_167_219_200_000), 253_402_300_799_999))
        let seconds = totalMilliseconds.floorDivided(by: 1000)
        let millisecond = Int(totalMilliseconds - seconds * 1000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        // Written byte by byte into one buffer: this runs for every produced event.
        var position = 0
        func put(_ value: Int, digits: Int) {
            var remaining = value
            for offset in stride(from: digits - 1, through: 0, by: -1) {
                buffer[position + offset] = UInt8(48 + remaining % 10)
                remaining /= 10
            }
            position += digits
        }
        func put(_ character: Unicode.Scalar) {
            buffer[position] = UInt8(ascii: character)
            position += 1
        }
        put(Int(year), digits: 4)
        put("-")
        put(month, digits: 2)
        put("-")
        put(day, digits: 2)
        put("T")
        put(secondOfDay / 3600, digits: 2)
        put(":")
        put(secondOfDay / 60 % 60, digits: 2)
        put(":")
        put(secondOfDay % 60, digits: 2)
        put(".")
        put(millisecond, digits: 3)
        put("Z")
        return position
    }

    /// Parses an RFC 3339 timestamp.
    /// - Parameter text: The timestamp.
    /// - Returns: The date, or nil if `text` is not RFC 3339.
    public static func parse(_ text: some StringProtocol) -> Date? {
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ parse(utf8: $0) }) { return parsed }
        return Array(text.utf8).withUnsafeBufferPointer { parse(utf8: $0) }
    }

    /// Parses an RFC 3339 timestamp from its UTF-8 bytes (for example a header value in place).
    /// - Parameter bytes: The timestamp's bytes.
    /// - Returns: The date, or nil if `bytes` are not RFC 3339.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ first: UInt8, _ second: UInt8? = nil, _ third: UInt8? = nil) -> Bool {
            guard index < bytes.count else { return false }
            let byte = bytes[index]
            guard byte == first || byte == second || byte == third else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            expect(84, 116, 32), let hour = number(2), expect(58), let minute = number(2), expect(58),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24,
            minute < 60, second <= 60
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var scale = 0.1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        var offsetSeconds = 0
        if expect(90, 122) {
            offsetSeconds = 0
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(58), let offsetMinutes = number(2), offsetHours < 24,
                offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        // A leap second (:60) is read as :59, as most platforms do.
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let epochSeconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        return Date(timeIntervalSince1970: Double(epochSeconds) + fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Proleptic Gregorian calendar arithmetic (the days-from-civil algorithm), so neither direction needs the C
    // library's time zone machinery.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let shiftedYear = Int64(month <= 2 ? year - 1 : year)
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
