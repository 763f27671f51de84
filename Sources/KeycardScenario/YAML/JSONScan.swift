/// One JSON value's extent, checked as Go's encoding/json scanner checks it (what `json.Decoder`
/// reads for kubectl's `YAMLOrJSONDecoder`): objects, arrays, strings (no control characters,
/// escapes `\" \\ \/ \b \f \n \r \t \uXXXX`), numbers (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// `true`, `false`, `null`, with blanks (space, tab, CR, LF) between tokens. Nesting deeper than
/// Go's 10,000 levels is refused as Go refuses it.
enum JSONScan {
    enum Result: Equatable {
        /// The value ends before byte `end`.
        case value(end: Int)
        /// The byte where the value stops being JSON, and what Go's scanner says there.
        case error(offset: Int, message: String)
    }

    private struct Failure: Error {
        var offset: Int
        var message: String
    }

    /// The value starting at `start` (a non-blank byte) of `bytes`.
    static func value(_ bytes: [UInt8], at start: Int) -> Result {
        var scanner = Scanner(bytes: bytes, index: start)
        do {
            try scanner.value(depth: 0)
            return .value(end: scanner.index)
        } catch {
            return .error(offset: error.offset, message: error.message)
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index: Int

        private func describe(_ byte: UInt8?) -> String {
            guard let byte else { return "unexpected end of JSON input" }
            let hex = String(byte, radix: 16)
            let shown =
                byte == UInt8(ascii: "'")
                ? "'\\''" : byte < 0x20 || byte >= 0x7F ? "'\\x\(hex.count == 1 ? "0" : "")\(hex)'" : "'\(Character(Unicode.Scalar(byte)))'"
            return "invalid character \(shown)"
        }

        private func fail(_ context: String) -> Failure {
            let byte = index < bytes.count ? bytes[index] : nil
            return Failure(offset: index, message: byte == nil ? describe(nil) : "\(describe(byte)) \(context)")
        }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func blanks() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// One value, nested containers included, without recursion: an explicit stack of the
        /// open containers, so 10,000 levels cost no call stack (a recursive scan of a deeply
        /// nested file overflowed a debug build's main thread near 4,400 levels).
        mutating func value(depth: Int) throws(Failure) {
            var open: [UInt8] = []
            var expectingValue = true
            while true {
                if expectingValue {
                    guard let byte = current else { throw fail("looking for beginning of value") }
                    switch byte {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        guard depth + open.count < 10_000 else { throw Failure(offset: index, message: "exceeded max depth") }
                        let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                        index += 1
                        blanks()
                        if current == close {
                            index += 1
                            expectingValue = false
                            continue
                        }
                        open.append(byte)
                        if byte == UInt8(ascii: "{") { try key() }
                    case UInt8(ascii: "\""):
                        try string()
                        expectingValue = false
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        try number()
                        expectingValue = false
                    case UInt8(ascii: "t"):
                        try literal("true")
                        expectingValue = false
                    case UInt8(ascii: "f"):
                        try literal("false")
                        expectingValue = false
                    case UInt8(ascii: "n"):
                        try literal("null")
                        expectingValue = false
                    default: throw fail("looking for beginning of value")
                    }
                    continue
                }
                // After a value: the end, the next element, or the close of its container.
                guard let container = open.last else { return }
                blanks()
                if current == UInt8(ascii: ",") {
                    index += 1
                    blanks()
                    if container == UInt8(ascii: "{") { try key() }
                    expectingValue = true
                    continue
                }
                if container == UInt8(ascii: "{") {
                    guard current == UInt8(ascii: "}") else { throw fail("after object key:value pair") }
                } else {
                    guard current == UInt8(ascii: "]") else { throw fail("after array element") }
                }
                index += 1
                open.removeLast()
            }
        }

        /// An object key and its colon, leaving the index at the value.
        private mutating func key() throws(Failure) {
            guard current == UInt8(ascii: "\"") else { throw fail("looking for beginning of object key string") }
            try string()
            blanks()
            guard current == UInt8(ascii: ":") else { throw fail("after object key") }
            index += 1
            blanks()
        }

        private mutating func literal(_ word: String) throws(Failure) {
            for expected in word.utf8 {
                guard current == expected else { throw fail("in literal \(word) (expecting '\(Character(Unicode.Scalar(expected)))')") }
                index += 1
            }
        }

        private mutating func digits() -> Bool {
            let start = index
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index > start
        }

        private mutating func number() throws(Failure) {
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else if !digits() {
                throw fail("in numeric literal")
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits() else { throw fail("after decimal point in numeric literal") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() else { throw fail("in exponent of numeric literal") }
            }
        }

        private mutating func string() throws(Failure) {
            index += 1
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escaped = current else { break }
                    if "\"\\/bfnrt".utf8.contains(escaped) {
                        index += 1
                    } else if escaped == UInt8(ascii: "u") {
                        index += 1
                        for _ in 0..<4 {
                            guard let hex = current, hex.isHexDigit else { throw fail("in \\u hexadecimal character escape") }
                            index += 1
                        }
                    } else {
                        throw fail("in string escape code")
                    }
                case 0x00..<0x20: throw fail("in string literal")
                default: index += 1
                }
            }
            throw fail("")
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
