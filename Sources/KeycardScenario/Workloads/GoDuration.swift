/// Go's `time.ParseDuration` as a check (the API server reads `@every <duration>` CronJob
/// schedules with it): `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` or `0`, units `ns`, `us`, `µs`
/// (U+00B5), `μs` (U+03BC), `ms`, `s`, `m`, `h`; at most 2^63-1 ns in magnitude (-2^63 ns when
/// negative). Source: Go `src/time/format.go`.
enum GoDuration {
    /// Nanoseconds in one of each unit.
    private static let units: [(name: [Unicode.Scalar], nanoseconds: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("\u{B5}s", 1_000), ("\u{3BC}s", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ].map { (Array($0.0.unicodeScalars), $0.1) }

    private static let limit: UInt64 = 1 << 63

    /// nil when Go parses `text` as a duration; else Go's error text.
    static func problem(_ text: [Unicode.Scalar]) -> String? {
        let invalid = "time: invalid duration \(quote(text))"
        var rest = text[...]
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if Array(rest) == ["0"] { return nil }
        if rest.isEmpty { return invalid }
        var total: UInt64 = 0
        while let first = rest.first {
            guard first == "." || isDigit(first) else { return invalid }
            // [0-9]*: Go refuses a value past 2^63 here.
            var whole: UInt64 = 0
            let digits = rest.prefix(while: isDigit)
            for digit in digits {
                if whole > limit / 10 { return invalid }
                whole = whole * 10 + UInt64(digit.value - 48)
                if whole > limit { return invalid }
            }
            rest = rest.dropFirst(digits.count)
            // (\.[0-9]*)?: fraction digits past 2^63 only stop adding precision.
            var fraction: UInt64 = 0
            var scale = 1.0
            var fractionDigits = 0
            if rest.first == "." {
                rest = rest.dropFirst()
                let after = rest.prefix(while: isDigit)
                fractionDigits = after.count
                var overflow = false
                for digit in after where !overflow {
                    if fraction > (limit - 1) / 10 {
                        overflow = true
                        continue
                    }
                    let next = fraction * 10 + UInt64(digit.value - 48)
                    if next > limit {
                        overflow = true
                        continue
                    }
                    fraction = next
                    scale *= 10
                }
                rest = rest.dropFirst(after.count)
            }
            if digits.isEmpty && fractionDigits == 0 { return invalid }
            let unitText = rest.prefix { $0 != "." && !isDigit($0) }
            if unitText.isEmpty { return "time: missing unit in duration \(quote(text))" }
            rest = rest.dropFirst(unitText.count)
            guard let unit = units.first(where: { $0.name == Array(unitText) })?.nanoseconds else {
                return "time: unknown unit \(quote(Array(unitText))) in duration \(quote(text))"
            }
            if whole > limit / unit { return invalid }
            var value = whole * unit
            if fraction > 0 {
                // Go adds uint64(float64(f) * (float64(unit) / scale)).
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                if value > limit { return invalid }
            }
            // Go's uint64 wraps when both are exactly 2^63 (its check then passes); so does this.
            total &+= value
            if total > limit { return invalid }
        }
        if !negative && total > limit - 1 { return invalid }
        return nil
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// Go's time-package `quote`: printable ASCII as is, other bytes as `\xNN`.
    private static func quote(_ scalars: [Unicode.Scalar]) -> String {
        var out = "\""
        for scalar in scalars {
            if scalar.value >= 0x20 && scalar.value < 0x80 {
                if scalar == "\"" || scalar == "\\" { out += "\\" }
                out.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 {
                    let hex = String(byte, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
        }
        return out + "\""
    }
}
