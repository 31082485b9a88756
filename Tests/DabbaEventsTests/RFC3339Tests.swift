import DabbaEvents
import Foundation
import Testing

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    /// Foundation's formatter as the reference (slow, but right).
    static func reference(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return date.formatted(style)
    }

    @Test("format and parse agree with Foundation across four centuries, leap days included")
    func agreesWithFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        // Whole seconds (exact in a Double) from 1900 to 2300, plus the edges of leap days and the epoch.
        var samples: [Int64] = [0, -1, 951_782_400, 951_868_799, 4_107_542_400, -2_208_988_800]
        for _ in 0..<2000 { samples.append(Int64.random(in: -2_208_988_800...10_413_792_000, using: &generator)) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: Double(seconds))
            let text = RFC3339.format(date)
            #expect(text == Self.reference(date), "\(seconds) s")
            #expect(RFC3339.parse(text) == date, "\(text)")
            // Milliseconds: a quarter second is exact in binary.
            let quarter = Date(timeIntervalSince1970: Double(seconds) + 0.25)
            #expect(RFC3339.format(quarter) == Self.reference(quarter))
            #expect(RFC3339.parse(RFC3339.format(quarter)) == quarter)
        }
    }

    @Test("impossible calendar dates and offsets are refused; dates beyond year 9999 are clamped")
    func edges() {
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2023-02-29T00:00:00Z") == nil)
        #expect(RFC3339.parse("2025-04-31T00:00:00Z") == nil)
        #expect(RFC3339.parse("2025-03-15T00:53:20+24:00") == nil)
        #expect(RFC3339.parse("2025-03-15T00:53:20.Z") == nil)
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1e12)) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1e12)) == "0000-01-01T00:00:00.000Z")
    }
}
