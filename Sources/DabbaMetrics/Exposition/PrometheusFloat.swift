/// Formats sample values and bucket bounds the way Prometheus's Go client does (`strconv.FormatFloat(v, 'g', -1,
/// 64)`), so `le` label values match those of other exporters exactly: `1`, `0.005`, `1e-05`, `1e+06`, `+Inf`.
///
/// The shortest round-tripping digits come from Swift's own `description` (which, like Go, prints the shortest
/// digits that read back as the same `Double`); only the layout follows Go's `%g`: exponent notation when the
/// decimal exponent is below -4 or at least 6 (at least two exponent digits, with a sign), plain notation otherwise.
enum PrometheusFloat {
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Fast path for counts and other whole numbers below 10⁶, which Go writes without an exponent.
        if value.magnitude < 1e6, value == value.rounded(.towardZero) {
            return String(Int(value))
        }

        let zero = UInt8(ascii: "0")
        let (digits, pointPosition) = shortestDigits(value.magnitude)
        // The value is 0.d₁d₂…dₙ × 10^pointPosition.
        var text: [UInt8] = []
        text.reserveCapacity(digits.count + 8)
        if value.sign == .minus { text.append(UInt8(ascii: "-")) }
        let exponent = pointPosition - 1
        if exponent < -4 || exponent >= 6 {
            text.append(digits[0])
            if digits.count > 1 {
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: digits[1...])
            }
            text.append(UInt8(ascii: "e"))
            text.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            if abs(exponent) < 10 { text.append(zero) }
            text.append(contentsOf: String(abs(exponent)).utf8)
        } else {
            if pointPosition > 0 {
                for index in 0..<pointPosition {
                    text.append(index < digits.count ? digits[index] : zero)
                }
            } else {
                text.append(zero)
            }
            let fractionDigits = max(digits.count - pointPosition, 0)
            if fractionDigits > 0 {
                text.append(UInt8(ascii: "."))
                for offset in 0..<fractionDigits {
                    let index = pointPosition + offset
                    text.append(index >= 0 && index < digits.count ? digits[index] : zero)
                }
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The shortest significant digits (ASCII) of a positive finite `value`, without leading or trailing zeros, and
    /// the position of the decimal point relative to them.
    private static func shortestDigits(_ value: Double) -> (digits: [UInt8], pointPosition: Int) {
        // `description` is "123.45", "0.001", "1e-05", "1.2345e+16" or "5e-324".
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        var pointPosition: Int?
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in value.description.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                } else {
                    digits.append(byte)
                }
            case UInt8(ascii: "."): pointPosition = digits.count
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: exponentSign = -1
            default: break
            }
        }
        var point = (pointPosition ?? digits.count) + exponentSign * exponent
        let leadingZeros = digits.prefix { $0 == UInt8(ascii: "0") }.count
        point -= leadingZeros
        let significant = digits.dropFirst(leadingZeros)
        let trailingZeros = significant.reversed().prefix { $0 == UInt8(ascii: "0") }.count
        let trimmed = Array(significant.dropLast(trailingZeros))
        if trimmed.isEmpty { return ([UInt8(ascii: "0")], 1) }
        return (trimmed, point)
    }
}
