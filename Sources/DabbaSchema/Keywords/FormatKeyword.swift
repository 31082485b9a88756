/// `format`.
///
/// Draft 2020-12 makes `format` an annotation by default. This implementation
/// deliberately *asserts* `date-time` (RFC 3339 §5.6) because event timestamps
/// are the one format pipelines rely on; every other format name is accepted
/// and ignored. Set ``JSONSchema/Options/assertFormat`` to `false` for the
/// pure annotation behaviour.
enum FormatKeyword {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        guard let format = try schema.string("format") else { return [] }
        guard schema.compiler.options.assertFormat, format == "date-time" else { return [] }
        return [DateTimeFormatKeyword(location: schema.location("format"))]
    }
}

struct DateTimeFormatKeyword: KeywordValidator {
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .string(let text) = instance else { return true }
        if RFC3339.isValidDateTime(text) { return true }
        return context.fail(location, "string \(Describe.value(instance)) is not a valid RFC 3339 date-time")
    }
}

/// Strict RFC 3339 `date-time` recognition.
enum RFC3339 {
    /// `full-date "T" full-time`, e.g. `1985-04-12T23:20:50.52Z`. `T`/`Z` are
    /// case-insensitive; calendar days, offsets and leap seconds (only at
    /// 23:59:60 UTC) are checked.
    static func isValidDateTime(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var reader = Reader(bytes: bytes)
        guard let year = reader.digits(4), reader.skip("-"),
              let month = reader.digits(2), reader.skip("-"),
              let day = reader.digits(2),
              reader.skip("T") || reader.skip("t"),
              let hour = reader.digits(2), reader.skip(":"),
              let minute = reader.digits(2), reader.skip(":"),
              let second = reader.digits(2)
        else { return false }
        if reader.skip(".") {
            guard reader.digits(1) != nil else { return false }
            while reader.digits(1) != nil {}
        }
        var offsetMinutes = 0
        if reader.skip("Z") || reader.skip("z") {
            offsetMinutes = 0
        } else {
            let sign: Int
            if reader.skip("+") {
                sign = 1
            } else if reader.skip("-") {
                sign = -1
            } else {
                return false
            }
            guard let offsetHour = reader.digits(2), reader.skip(":"), let offsetMinute = reader.digits(2),
                  offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        }
        guard reader.atEnd else { return false }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return false }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        if second == 60 {
            // A leap second is only inserted at the end of a UTC day.
            let utcMinutes = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            guard utcMinutes == 23 * 60 + 59 else { return false }
        }
        return true
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// ASCII-only cursor: non-ASCII digits (e.g. Bengali) are rejected by construction.
    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let byte = bytes[position + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }
    }
}
