import Foundation

/// Turns a file's bytes into text as kubectl reads a manifest: cli-runtime's `FileVisitor` wraps
/// the file in `unicode.BOMOverride(unicode.UTF8.NewDecoder())` (k8s.io/cli-runtime
/// pkg/resource/visitor.go), so UTF-16 with a byte order mark (what Windows PowerShell 5's `>`
/// writes) is transcoded, a UTF-8 BOM is dropped, and anything else is read as UTF-8.
enum TextEncoding {
    /// The text of `data`, as kubectl reads it: never refused. Invalid UTF-8 becomes U+FFFD, one
    /// for each byte Go's `utf8.DecodeRune` cannot start a character with (x/text's UTF-8 decoder,
    /// what `BOMOverride` falls back to); in UTF-16 with a BOM a lone surrogate, or an odd last
    /// byte, becomes U+FFFD (x/text's UTF-16 decoder). A Latin-1 `é` in a comment or annotation
    /// thus no longer refuses a file kubectl applies.
    static func decode(_ data: Data) -> String { decodeNoting(data).text }

    /// `decode(data)`, and where the first replaced byte or unit is in the text: its line and
    /// column (characters from 1, as YAML marks count them), nil when nothing was replaced.
    static func decodeNoting(_ data: Data) -> (text: String, firstReplaced: (line: Int, column: Int)?) {
        let bytes = [UInt8](data)
        let decoded: (scalars: String.UnicodeScalarView, first: Int?)
        if bytes.starts(with: [0xFF, 0xFE]) {
            decoded = utf16(bytes.dropFirst(2), bigEndian: false)
        } else if bytes.starts(with: [0xFE, 0xFF]) {
            decoded = utf16(bytes.dropFirst(2), bigEndian: true)
        } else if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            decoded = goUTF8Scalars(bytes.dropFirst(3))
        } else {
            decoded = goUTF8Scalars(bytes[...])
        }
        guard let first = decoded.first else { return (String(decoded.scalars), nil) }
        var line = 1
        var column = 1
        for scalar in decoded.scalars.prefix(first) {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (String(decoded.scalars), (line, column))
    }

    /// UTF-16 code units from byte pairs: a lone surrogate, or an odd last byte, is U+FFFD, as
    /// x/text decodes them. Also the index of the first replaced scalar.
    private static func utf16(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> (String.UnicodeScalarView, Int?) {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            let (a, b) = (UInt16(bytes[index]), UInt16(bytes[index + 1]))
            units.append(bigEndian ? a << 8 | b : b << 8 | a)
            index += 2
        }
        var scalars = String.UnicodeScalarView()
        var first: Int?
        var parser = Unicode.UTF16.ForwardParser()
        var iterator = units.makeIterator()
        var count = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): scalars.append(Unicode.UTF16.decode(encoded))
            case .error:
                scalars.append("\u{FFFD}")
                if first == nil { first = count }
            case .emptyInput: break loop
            }
            count += 1
        }
        if index < bytes.endIndex {
            scalars.append("\u{FFFD}")
            if first == nil { first = count }
        }
        return (scalars, first)
    }

    /// `bytes` read as Go reads UTF-8 (`utf8.DecodeRune`): a well-formed sequence is its character;
    /// any other byte is U+FFFD and reading goes on at the next byte.
    static func goUTF8(_ bytes: ArraySlice<UInt8>) -> String { String(goUTF8Scalars(bytes).scalars) }

    /// `goUTF8`'s characters, and the index of the first replaced one.
    private static func goUTF8Scalars(_ bytes: ArraySlice<UInt8>) -> (scalars: String.UnicodeScalarView, first: Int?) {
        if let valid = String(validating: bytes, as: UTF8.self) { return (valid.unicodeScalars, nil) }
        var scalars = String.UnicodeScalarView()
        var first: Int?
        var count = 0
        var i = bytes.startIndex
        let end = bytes.endIndex
        func continuation(_ at: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool { at < end && range.contains(bytes[at]) }
        while i < end {
            let length: Int
            switch bytes[i] {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = continuation(i + 1) ? 2 : 0
            case 0xE0: length = continuation(i + 1, 0xA0...0xBF) && continuation(i + 2) ? 3 : 0
            case 0xE1...0xEC, 0xEE...0xEF: length = continuation(i + 1) && continuation(i + 2) ? 3 : 0
            case 0xED: length = continuation(i + 1, 0x80...0x9F) && continuation(i + 2) ? 3 : 0
            case 0xF0: length = continuation(i + 1, 0x90...0xBF) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
            case 0xF1...0xF3: length = continuation(i + 1) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
            case 0xF4: length = continuation(i + 1, 0x80...0x8F) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
            default: length = 0
            }
            count += 1
            if length == 0 {
                scalars.append("\u{FFFD}")
                if first == nil { first = count - 1 }
                i += 1
                continue
            }
            scalars += String(decoding: bytes[i..<(i + length)], as: UTF8.self).unicodeScalars
            i += length
        }
        return (scalars, first)
    }
}
