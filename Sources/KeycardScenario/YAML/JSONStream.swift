/// A stream of JSON objects written one after another (`jq -c '.items[]'` prints one per line), as
/// kubectl reads it: apimachinery's `YAMLOrJSONDecoder` takes input whose first non-space byte is
/// `{` as JSON (`GuessJSONStream`) and decodes successive values with `json.Decoder`, each one
/// object. keycard parses each value as its own YAML document (JSON is YAML flow syntax).
enum JSONStream {
    /// One top-level value: its UTF-8 byte range and where it starts (1-based; the column counts
    /// Unicode scalars, as libyaml's marks do).
    struct Value {
        var bytes: Range<Int>
        var line: Int
        var column: Int
    }

    /// The objects of `text` when it is two or more JSON objects with only whitespace between
    /// them; nil otherwise (YAML, one object, or anything that does not scan as such a stream,
    /// which the YAML parser then reads and reports on).
    static func values(in text: String) -> [Value]? {
        // A plain index loop over a buffer: a debug build walks a 100 MiB file in seconds, not minutes.
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { values(in: $0) }
    }

    private static func values(in bytes: UnsafeBufferPointer<UInt8>) -> [Value]? {
        var values: [Value] = []
        var depth = 0
        var inString = false
        var escaped = false
        var line = 1
        var column = 0
        var start: (offset: Int, line: Int, column: Int)? = nil
        for offset in 0..<bytes.count {
            let byte = bytes[offset]
            if byte & 0xC0 != 0x80 { column += 1 }
            defer {
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    column = 0
                }
            }
            if depth == 0 {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): continue
                case UInt8(ascii: "{"):
                    start = (offset, line, column)
                    depth = 1
                    continue
                default: return nil
                }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0, let begin = start {
                    values.append(Value(bytes: begin.offset..<(offset + 1), line: begin.line, column: begin.column))
                    start = nil
                }
            default: break
            }
        }
        return depth == 0 && values.count > 1 ? values : nil
    }

    /// `text` with JSON's UTF-16 escapes made YAML's: a surrogate pair (`\ud83d\ude80`, how
    /// Python's `json.dump` writes 🚀) becomes one `\UXXXXXXXX` escape, a lone surrogate
    /// `\ufffd`, as Go's encoding/json decodes them; libyaml refuses surrogate escapes. For text
    /// kubectl reads as JSON (its first non-space byte is `{`); anything else is returned as is.
    static func joiningSurrogates(_ text: String) -> String {
        guard text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{"),
            text.contains("\\u")
        else { return text }
        let bytes = Array(text.utf8)
        func hex(at index: Int) -> UInt32? {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
            return UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                out.append(bytes[index])
                index += 1
                continue
            }
            // An escaped backslash is copied whole, so `\\ud83d` stays text.
            guard let unit = hex(at: index), (0xD800...0xDFFF).contains(unit) else {
                out += bytes[index...index + 1]
                index += 2
                continue
            }
            if unit < 0xDC00, let low = hex(at: index + 6), (0xDC00...0xDFFF).contains(low) {
                let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                out += Array(("\\U" + String(format: "%08X", scalar)).utf8)
                index += 12
            } else {
                out += Array("\\ufffd".utf8)
                index += 6
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
