import Foundation

/// What kubectl's YAML reader makes of a scalar: go-yaml v2's `resolve` (gopkg.in/yaml.v2
/// resolve.go), which sigs.k8s.io/yaml runs before it converts the document to JSON. keycard reads
/// plain values through Yams' YAML 1.1 resolver, which agrees with it on every type a field checks;
/// this is for the two places where the value itself matters and Yams alone would differ:
/// mapping keys (`on: x` is the key `"true"` to kubectl, `0x10: x` the key `"16"`) and scalars
/// with an explicit tag (`!!int "0x50"` is 80, `!!str 80` the string `"80"`).
enum GoYAMLScalar: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    /// Beyond `Int64.max`: go-yaml returns a `uint64`, which no map key may be.
    case uint(UInt64)
    case float(Double)
    case null
    /// A YAML timestamp (`2001-12-14`): decoded into kubectl's untyped objects it stays its text.
    case timestamp(String)

    /// `resolveMap` of resolve.go. Plain `y`/`Y`/`n`/`N` are left out on purpose: keycard keeps
    /// them strings outside boolean fields (docs/kubernetes-fidelity.md, "Plain `y` and `n`").
    private static let words: [String: GoYAMLScalar] = {
        var words: [String: GoYAMLScalar] = [:]
        for word in ["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] { words[word] = .bool(true) }
        for word in ["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] { words[word] = .bool(false) }
        for word in ["", "~", "null", "Null", "NULL"] { words[word] = .null }
        for word in [".nan", ".NaN", ".NAN"] { words[word] = .float(.nan) }
        for word in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] { words[word] = .float(.infinity) }
        for word in ["-.inf", "-.Inf", "-.INF"] { words[word] = .float(-.infinity) }
        return words
    }()

    /// `yamlStyleFloat` of resolve.go.
    private static let floatPattern = try! NSRegularExpression(pattern: #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#)

    /// A plain (unquoted, untagged) scalar, as `resolve("", text)` reads it.
    static func plain(_ text: String) -> GoYAMLScalar {
        if let word = words[text] { return word }
        guard let first = text.unicodeScalars.first else { return .null }
        if first == "." {
            return finite(text).map(GoYAMLScalar.float) ?? .string(text)
        }
        guard first == "+" || first == "-" || ("0"..."9").contains(first) else { return .string(text) }
        if isTimestamp(text) { return .timestamp(text) }
        let digits = text.replacingOccurrences(of: "_", with: "")
        if let value = goParseInt(digits) { return .int(value) }
        if let value = goParseUint(digits) { return .uint(value) }
        let range = NSRange(digits.startIndex..., in: digits)
        if floatPattern.firstMatch(in: digits, range: range) != nil, let value = finite(digits) { return .float(value) }
        return .string(text)
    }

    /// Go's `strconv.ParseFloat(text, 64)` where it succeeds: a number beyond the float range
    /// (`1e400`) is its `ErrRange`, and go-yaml then keeps the text a string.
    private static func finite(_ text: String) -> Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// A scalar with the explicit tag `tag` (`!!int`, or its long form), as go-yaml v2's
    /// `resolve(tag, text)` reads it: `!!str` (and `!!binary`, base64-decoded) is the text; `!!int`,
    /// `!!bool`, `!!float`, `!!null`, `!!timestamp` resolve the text as if plain and must get that
    /// type (an integer is also a `!!float`); any other tag leaves the text a string.
    /// - Returns: the value, or go-yaml's error ("cannot decode !!str `x` as a !!null").
    static func tagged(_ text: String, tag: String) -> Result<GoYAMLScalar, TagError> {
        let short = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
        switch short {
        case "!!binary":
            // Go's base64.StdEncoding.DecodeString skips line breaks (a block scalar has them); the
            // bytes become a Go string, which JSON then carries with invalid UTF-8 replaced.
            guard let data = Data(base64Encoded: text.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" }) else {
                return .failure(TagError(message: "!!binary value contains invalid base64 data"))
            }
            return .success(.string(String(decoding: data, as: UTF8.self)))
        case "!!int", "!!bool", "!!float", "!!null", "!!timestamp":
            var resolved = plain(text)
            // y/n are booleans to go-yaml; with an explicit !!bool nothing else can be meant.
            if ["y", "Y"].contains(text) { resolved = .bool(true) }
            if ["n", "N"].contains(text) { resolved = .bool(false) }
            switch (short, resolved) {
            case ("!!int", .int), ("!!int", .uint), ("!!bool", .bool), ("!!float", .float), ("!!null", .null),
                ("!!timestamp", .timestamp):
                return .success(resolved)
            case ("!!float", .int(let value)): return .success(.float(Double(value)))
            case ("!!float", .uint(let value)): return .success(.float(Double(value)))
            default: return .failure(TagError(message: "cannot decode \(resolved.goTag) `\(text)` as a \(short)"))
            }
        default:
            return .success(.string(text))
        }
    }

    /// go-yaml v2's refusal of a tagged scalar whose text is not of the tag's type.
    struct TagError: Error, Equatable {
        var message: String
    }

    /// The short tag go-yaml names in its errors.
    private var goTag: String {
        switch self {
        case .string: "!!str"
        case .bool: "!!bool"
        case .int, .uint: "!!int"
        case .float: "!!float"
        case .null: "!!null"
        case .timestamp: "!!timestamp"
        }
    }

    /// The JSON object key sigs.k8s.io/yaml makes of a mapping key (`convertToJSONableObject`):
    /// strings and timestamps as written, integers in decimal, booleans `true`/`false`, floats as
    /// Go's `FormatFloat(f, 'g', -1, 32)` (`.inf`, `-.inf`, `.nan` for the special values). Nil for
    /// null and for integers beyond `Int64` (a `uint64`), which it refuses ("unsupported map key").
    var keyString: String? {
        switch self {
        case .string(let text), .timestamp(let text): text
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .uint, .null: nil
        case .float(let value): Self.goFloat32(value)
        }
    }

    /// Go's `strconv.FormatFloat(value, 'g', -1, 32)`: the shortest digits that give back the
    /// float32, in `%e` form (`1e+06`, at least two exponent digits) when the exponent is below -4
    /// or at least 6 (the shortest form's threshold), else in `%f` form (`100000`, `0.5`).
    static func goFloat32(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        let single = Float(value)
        if single.isInfinite { return single < 0 ? "-.inf" : ".inf" }
        if single == 0 { return single.sign == .minus ? "-0" : "0" }
        // Swift prints the shortest round-trip digits: `1.2345679e+08`, `0.1`, `1000000.0`.
        var text = "\(single.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var point = whole.count + exponent  // digits before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = single < 0 ? "-" : ""
        let decimalExponent = point - 1
        if decimalExponent < -4 || decimalExponent >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.prefix(1)).\(digits.dropFirst())" : digits
            let magnitude = abs(decimalExponent)
            return "\(sign)\(mantissa)e\(decimalExponent < 0 ? "-" : "+")\(magnitude < 10 ? "0" : "")\(magnitude)"
        }
        if point <= 0 { return "\(sign)0.\(String(repeating: "0", count: -point))\(digits)" }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let cut = digits.index(digits.startIndex, offsetBy: point)
        return "\(sign)\(digits[..<cut]).\(digits[cut...])"
    }

    /// go-yaml v2's timestamp test (`parseTimestamp`): `YYYY-M-D`, optionally with a time
    /// `h:m:s[.fraction]` after `T`, `t` or a space; a zone (`Z`, `±hh:mm`) goes with `T`/`t` only.
    /// The fields must be a real date and time, as `time.Parse` checks them.
    private static func isTimestamp(_ text: String) -> Bool {
        let pattern =
            #"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})|[ ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?)?$"#
        guard text.range(of: pattern, options: .regularExpression) != nil else { return false }
        let fields = text.split { !$0.isNumber }.prefix(6).compactMap { Int($0) }
        let (year, month, day) = (fields[0], fields[1], fields[2])
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day) else { return false }
        guard fields.count >= 6 else { return true }
        return fields[3] < 24 && fields[4] < 60 && fields[5] < 60
    }

    /// Go's `strconv.ParseInt(text, 0, 64)`: an optional sign, then `0x`, `0o`, `0b` or a leading
    /// `0` (octal) prefix, or decimal digits.
    static func goParseInt(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard let magnitude = goParseUint(String(body)) else { return nil }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// Go's `strconv.ParseUint(text, 0, 64)`: no sign; the base from the prefix as `goParseInt`.
    static func goParseUint(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        let (radix, digits): (Int, Substring) =
            if lower.hasPrefix("0x") { (16, lower.dropFirst(2)) } else if lower.hasPrefix("0o") {
                (8, lower.dropFirst(2))
            } else if lower.hasPrefix("0b") { (2, lower.dropFirst(2)) } else if lower.hasPrefix("0") && lower.count > 1 {
                (8, lower.dropFirst(1))
            } else { (10, Substring(lower)) }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
        return UInt64(digits, radix: radix)
    }
}
