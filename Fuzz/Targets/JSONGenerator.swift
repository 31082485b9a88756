/// JSON text of random shapes and awkward tokens for the seeded pass: the payload shapes of ``FuzzOrderPlaced`` and
/// ``FuzzPing`` (so inputs reach deep into the decoders), random documents, and the forms decoders disagree on
/// (escapes, exponents, `-0`, leading zeros, huge integers, duplicate keys, invalid UTF-8, odd whitespace).
enum JSONGenerator {
    /// Tokens the mutations insert.
    static let tokens = [
        "\"", "\\", "\\u0000", "\\ud800", "\\uDC00\\uD800", "\\n", "{", "}", "[", "]", ":", ",", "null", "true",
        "false",
        "-0", "0.0", "1e400", "-1e-400", "1E2", "00", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "\u{FEFF}", "\u{0}", "\t", "\r\n", "é", "🍛", "\u{7F}", "2026-11-21T08:43:10.123Z",
        "\"sequence\":1", "\"id\":\"x\"",
    ]

    static func string(_ random: inout FuzzRandom) -> String {
        switch random.below(10) {
        case 0: return "\"\""
        case 1: return "\"ord_\(random.below(1000))\""
        case 2: return "\"caf\\u00e9 \\\"x\\\" \\/ \\t\""
        case 3: return "\"ऑर्डर-₹-🍛\""
        case 4: return "\"\(random.pick(["placed", "delivered", "PLACED", "lost"]))\""
        case 5: return "\"\(timestamp(&random))\""
        default:
            let letters = Array("abcxyz_-. 019")
            return "\"" + String((0..<random.below(12)).map { _ in random.pick(letters) }) + "\""
        }
    }

    static func timestamp(_ random: inout FuzzRandom) -> String {
        random.pick([
            "2026-11-21T08:43:10.123Z", "2026-11-21T08:43:10Z", "2026-11-21t08:43:10.123456789z",
            "2024-02-29T23:59:60+05:30", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999-00:01",
            "2026-02-30T00:00:00Z", "2026-11-21 08:43:10Z", "2026-11-21T08:43:10", "2026-11-21T08:43:10.Z",
            "1970-01-01T00:00:00+23:59",
        ])
    }

    static func integer(_ random: inout FuzzRandom) -> String {
        random.pick([
            "0", "1", "-1", "42", "-0", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
            "-9223372036854775808", "9223372036854775808", "18446744073709551615", "1.0", "1e2", "01", "3.5",
            String(Int.random(in: -1_000_000...1_000_000, using: &random)),
        ])
    }

    static func double(_ random: inout FuzzRandom) -> String {
        random.pick([
            "0", "-0.0", "12.5", "-1.25e3", "1E-7", "1e308", "1e309", "-1e400", "4.9e-324", "2.2250738585072014e-308",
            "0.1", "123456789012345678901234567890", "1.7976931348623157e308", "3",
            String(Double.random(in: -1e6...1e6, using: &random)),
        ])
    }

    /// Any JSON value, up to `depth` levels of nesting.
    static func value(_ random: inout FuzzRandom, depth: Int) -> String {
        switch random.below(depth > 0 ? 9 : 6) {
        case 0: return "null"
        case 1: return random.oneIn(2) ? "true" : "false"
        case 2: return integer(&random)
        case 3: return double(&random)
        case 4, 5: return string(&random)
        case 6, 7:
            let members = (0..<random.below(5)).map { _ in "\(string(&random)):\(value(&random, depth: depth - 1))" }
            return "{" + members.joined(separator: random.pick([",", " , ", ",\n"])) + "}"
        default:
            let elements = (0..<random.below(5)).map { _ in value(&random, depth: depth - 1) }
            return "[" + elements.joined(separator: ",") + "]"
        }
    }

    /// An object with these members, some left out, replaced, repeated or reordered.
    static func object(_ members: [(String, String)], _ random: inout FuzzRandom) -> String {
        var chosen: [(String, String)] = []
        for (key, value) in members {
            switch random.below(14) {
            case 0: continue
            case 1: chosen.append((key, "null"))
            case 2: chosen.append((key, self.value(&random, depth: 2)))
            case 3: chosen += [(key, value), (key, value)]
            default: chosen.append((key, value))
            }
        }
        if random.oneIn(4) { chosen.append(("unknown\(random.below(3))", self.value(&random, depth: 3))) }
        if random.oneIn(5) { chosen.shuffle(using: &random) }
        let separator = random.pick([",", ", ", " ,\n\t"])
        return "{" + chosen.map { "\"\($0.0)\":\($0.1)" }.joined(separator: separator) + "}"
    }

    static func orderPlaced(_ random: inout FuzzRandom) -> String {
        let line = { (random: inout FuzzRandom) in
            object(
                [("sku", string(&random)), ("quantity", integer(&random)), ("priceMinor", integer(&random))], &random)
        }
        let lines = (0..<random.below(3)).map { _ in line(&random) }
        let channel =
            random.oneIn(2)
            ? "{\"sms\":{\"number\":\(string(&random))}}"
            : "{\"push\":{\"device\":\(string(&random)),\"badge\":\(integer(&random))}}"
        return object(
            [
                ("id", string(&random)), ("count", integer(&random)), ("small", integer(&random)),
                ("unsigned", integer(&random)), ("paid", random.oneIn(2) ? "true" : "false"),
                ("total", double(&random)), ("placedAt", "\"\(timestamp(&random))\""), ("note", string(&random)),
                ("coupon", integer(&random)), ("status", "\"\(random.pick(["placed", "delivered"]))\""),
                ("lines", "[" + lines.joined(separator: ",") + "]"), ("tags", "[\(string(&random))]"),
                ("scores", "{\"a\":\(integer(&random)),\"b\":\(integer(&random))}"), ("channel", channel),
                ("matrix", "[[\(integer(&random))],[]]"),
            ],
            &random
        )
    }

    static func ping(_ random: inout FuzzRandom) -> String {
        let hops = (0..<random.below(3)).map { _ in
            object([("node", string(&random)), ("latency", double(&random))], &random)
        }
        return object(
            [
                ("sequence", integer(&random)), ("from", string(&random)), ("sentAt", "\"\(timestamp(&random))\""),
                ("hops", "[" + hops.joined(separator: ",") + "]"), ("ttl", integer(&random)),
                ("flags", "[true,false]"), ("extra", "{\"k\":\(string(&random))}"),
            ],
            &random
        )
    }

    /// Whitespace around the document, now and then a byte-order mark.
    static func framed(_ text: String, _ random: inout FuzzRandom) -> String {
        let before = random.oneIn(8) ? "\u{FEFF}" : random.pick(["", " ", "\n\t "])
        return before + text + random.pick(["", " ", "\r\n"])
    }
}
