import Foundation
import Yams

/// The API server's limit on a request body: 3 MiB (`MaxRequestBodyBytes`, 3*1024*1024, in
/// k8s.io/apiserver's server config; a larger body gets 413 "Request entity too large: limit is
/// 3145728"). kubectl sends each object as its own request, a List's items one by one, so the
/// limit holds per object, not per file.
///
/// What is measured is the body kubectl sends: the object's JSON (sigs.k8s.io/yaml turns the YAML
/// into JSON, then Go's encoding/json writes it compactly, escaping `<`, `>`, `&`, U+2028 and
/// U+2029 as `\uXXXX`). Computing it exactly costs a walk that resolves every scalar's type, so
/// a cheap upper bound comes first (`mayExceed`): a scalar's JSON is at most 6 bytes per byte of
/// its text (the longest escape) plus 5 (quotes, or `false`; a number written in n bytes has at
/// most 6n + 5 digits: `9e20` is 21, and no float needs more than 24); collections add their
/// brackets, colons and commas; merge keys only remove duplicates. Only an object whose bound
/// passes the limit (written text over about half a megabyte) is measured exactly
/// (`jsonLength`), so a dump of 10,000 small policies costs one light walk each. Not counted:
/// the `kubectl.kubernetes.io/last-applied-configuration` annotation client-side `kubectl apply`
/// adds (whose own limit, 256 KiB of annotations, keycard does not apply either).
enum RequestBodySize {
    /// `MaxRequestBodyBytes`: a body of more bytes than this is refused.
    static let limit = 3 * 1024 * 1024

    /// Whether `node`'s JSON may exceed `limit`: false means it surely does not.
    static func mayExceed(_ node: Node, limit: Int = limit) -> Bool {
        var total = 0
        addBound(node, &total, limit)
        return total > limit
    }

    private static func addBound(_ node: Node, _ total: inout Int, _ limit: Int) {
        guard total <= limit else { return }
        switch node {
        case .scalar(let scalar): total += 6 * scalar.string.utf8.count + 5
        case .mapping(let mapping):
            total += 2
            // A colon and a comma per entry.
            for (key, value) in mapping {
                total += 2
                addBound(key, &total, limit)
                addBound(value, &total, limit)
            }
        case .sequence(let sequence):
            total += 2
            for item in sequence {
                total += 1
                addBound(item, &total, limit)
            }
        // Substituted when the document is composed; counted as the longest scalar word.
        case .alias: total += 5
        }
    }

    /// The length in bytes of `value`'s compact JSON as kubectl sends it: mappings with merge keys
    /// applied (`YAMLValue.entries`), plain scalars typed as go-yaml v2 types them
    /// (`GoYAMLScalar.plain`; plain `y`/`n` are booleans there), numbers as encoding/json writes them.
    static func jsonLength(_ value: YAMLValue) throws(ScenarioError) -> Int {
        switch value.node {
        case .mapping:
            let entries = try value.entries("an object")
            var total = 2 + max(0, entries.count - 1)
            for (key, _, field) in entries { total += quotedLength(key) + 1 + (try jsonLength(field)) }
            return total
        case .sequence:
            let items = try value.items("a list")
            var total = 2 + max(0, items.count - 1)
            for item in items { total += try jsonLength(item) }
            return total
        case .scalar(let scalar):
            guard scalar.style == .plain else { return quotedLength(scalar.string) }
            if ["y", "Y", "n", "N"].contains(scalar.string) { return scalar.string.lowercased() == "y" ? 4 : 5 }
            switch GoYAMLScalar.plain(scalar.string) {
            case .string(let text), .timestamp(let text): return quotedLength(text)
            case .bool(let flag): return flag ? 4 : 5
            case .null: return 4
            case .int(let number): return String(number).utf8.count
            case .uint(let number): return String(number).utf8.count
            case .float(let number): return floatLength(number)
            }
        case .alias: return 4
        }
    }

    /// A JSON string's length as encoding/json writes it (HTML escaping on, as `json.Marshal`):
    /// `"` and `\` and, since Go 1.22, `\b` `\f` `\n` `\r` `\t` take two bytes; other control
    /// bytes and `<` `>` `&` six (`\u003c`); U+2028 and U+2029 six for their three.
    static func quotedLength(_ text: String) -> Int {
        var length = 2
        var lineSeparators = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), 0x08, 0x0C: length += 2
            case 0..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"): length += 6
            case 0xE2:
                lineSeparators = true
                length += 1
            default: length += 1
            }
        }
        if lineSeparators { length += 3 * text.unicodeScalars.filter { $0.value == 0x2028 || $0.value == 0x2029 }.count }
        return length
    }

    /// encoding/json's float: the shortest digits that read back as `number`, in `%f` form, or
    /// in `%e` form below 1e-6 and from 1e21 on, with a one-digit negative exponent unpadded
    /// (`1e-7`, `1e+21`). NaN and the infinities, which it refuses, count as their text.
    static func floatLength(_ number: Double) -> Int {
        guard number.isFinite else { return number.description.utf8.count }
        let sign = number.sign == .minus ? 1 : 0
        if number == 0 { return sign + 1 }
        // Swift's description holds the same shortest digits, in its own layout.
        let text = number.magnitude.description
        let parts = text.split(separator: "e")
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        var digits = Array(mantissa[0] + (mantissa.count > 1 ? mantissa[1] : ""))
        var point = mantissa[0].count + (parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let count = digits.count
        if number.magnitude < 1e-6 || number.magnitude >= 1e21 {
            let exponent = point - 1
            let exponentDigits = exponent < 0 && exponent > -10 ? 1 : max(2, String(abs(exponent)).count)
            return sign + 1 + (count > 1 ? count : 0) + 2 + exponentDigits
        }
        if point <= 0 { return sign + 2 - point + count }
        if point >= count { return sign + point }
        return sign + count + 1
    }
}

extension ObjectDecoder {
    /// Refuses an object whose request body would exceed `RequestBodySize.limit`, at the object.
    /// `header`: the object's entries, which name it in the message.
    func checkRequestSize(
        _ value: YAMLValue, kind: String, header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)]
    ) throws(ScenarioError) {
        guard RequestBodySize.mayExceed(value.node) else { return }
        let length = try RequestBodySize.jsonLength(value)
        guard length > RequestBodySize.limit else { return }
        throw value.error(
            "\(kind) \(Self.writtenName(header)): Request entity too large: limit is \(RequestBodySize.limit) (kubectl sends each object as its own request, and this one's JSON is \(length) bytes)"
        )
    }
}
