import Foundation

/// How `kubectl apply -f` cuts a file into the pieces it decodes one by one (k8s.io/apimachinery
/// pkg/util/yaml/decoder.go, as of Kubernetes 1.34):
/// - `YAMLOrJSONDecoder` (`NewYAMLOrJSONDecoder(reader, 4096)` in cli-runtime's `StreamVisitor`):
///   when the first non-space character of the first 4096 bytes is `{` (`GuessJSONStream`), values
///   are decoded as a JSON stream (`json.Decoder`). When a value does not decode and at most one
///   did before, it switches to YAML for the rest (from the end of that one object, after the
///   blanks up to and including the first line break: `consumeWhitespace`); after two objects a
///   failure is the error (since 1.33: a YAML flow mapping `{a: 1}`, or an object then `---` and
///   YAML, is read; before, any such file was refused as JSON).
/// - `YAMLReader.Read`: lines are cut at `\n` only (`bufio.Reader.ReadLine`, which also drops a
///   `\r` before the `\n`). A line that starts with `---` ends a document when what follows is
///   blank or a `#` comment, and is an error otherwise ("invalid Yaml document separator", since
///   1.22: `--- !!map`, `--- |`, `----`); a separator with nothing before it in the document is
///   kept as the document's first line. Lone `\r` (old Mac), U+0085, U+2028 and U+2029 do not cut
///   lines there, but go-yaml's scanner takes them as line breaks inside a piece.
/// - each YAML piece goes to sigs.k8s.io/yaml `Unmarshal`, which calls go-yaml v2's `Unmarshal`:
///   it reads the piece's first document only (`parser.parse` → `document()`), so a second
///   document in one piece (after `...`, or after a `---` that a lone CR puts at a line start) is
///   never read. keycard reads the same first document and warns about the rest (`YAMLDocuments`).
enum KubectlFraming {
    /// Text handed to the YAML parser, and how its bytes map back to the file's.
    struct Piece {
        enum Kind { case json, yaml }
        var kind: Kind
        /// What the parser reads.
        var text: String
        /// Runs of bytes copied from the file: `piece` bytes from `piece` on are the file's from
        /// `file` on, for `length` bytes; bytes between runs (a line break added, an escape
        /// written for a character) map to the end of the run before them.
        var runs: [(piece: Int, file: Int, length: Int)]
        /// The file's line (as an editor counts it) of the piece's first line.
        var firstLine: Int
        /// Whether the parser's lines are the editor's, one for one from `firstLine`, and its
        /// columns too: no lone CR, U+0085, U+2028, U+2029, byte order mark or rewritten text.
        var plain: Bool
    }

    /// The pieces of the file `lines` holds, as kubectl decodes them. Errors (at their line and column): a line that starts with `---` and is
    /// no separator; in a JSON stream, a value that does not decode after two did (kubectl's JSON
    /// error), or one kubectl cannot switch to YAML after (fewer than 4 bytes left, or U+FFFD).
    static func pieces(of lines: FileLines, file: String) throws(ScenarioError) -> [Piece] {
        let bytes = lines.bytes
        guard startsAsJSON(bytes) else { return try yamlPieces(from: 0, file: file, lines: lines) }
        var pieces: [Piece] = []
        var position = 0
        var count = 0
        while true {
            var start = position
            while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
            if start == bytes.count { return pieces }
            switch JSONScan.value(bytes, at: start) {
            case .value(let end):
                count += 1
                pieces.append(jsonPiece(bytes, start..<end, lines: lines))
                position = end
            case .error(let offset, let message):
                let here = lines.location(ofByte: offset)
                let error = ScenarioError(
                    SourceLocation(file: file, line: here.line, column: here.column),
                    "invalid JSON: \(message) (a file whose first character is { is read as a stream of JSON objects, as kubectl reads it)")
                if count > 1 { throw error }
                guard let yamlStart = afterBlanks(bytes, from: position) else { throw error }
                return pieces + (try yamlPieces(from: yamlStart, file: file, lines: lines))
            }
        }
    }

    /// Whether every line of `text` is blank, a `#` comment or a `---` separator (with blanks or a
    /// comment after it): a YAML piece with no node.
    static func holdsNothing(_ text: [UInt8]) -> Bool {
        // A control character (or any non-ASCII byte) is the parser's to judge, even in a comment:
        // go-yaml's reader refuses control characters anywhere ("control characters are not allowed").
        guard !text.contains(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 >= 0x7F }) else { return false }
        var index = 0
        while index < text.count {
            while index < text.count, text[index] == 0x20 || text[index] == 0x09 || text[index] == 0x0D { index += 1 }
            guard index < text.count else { return true }
            switch text[index] {
            case 0x0A:
                index += 1
                continue
            case 0x23:  // a comment: to the end of the line
                break
            case 0x2D where index + 2 < text.count && text[index + 1] == 0x2D && text[index + 2] == 0x2D:
                // `---` ends a document only at the start of a line, then blanks or a comment
                // (checked by the caller, which refuses anything else after it).
                guard index == 0 || text[index - 1] == 0x0A else { return false }
                index += 3
                while index < text.count, text[index] == 0x20 || text[index] == 0x09 || text[index] == 0x0D { index += 1 }
                guard index == text.count || text[index] == 0x0A || text[index] == 0x23 else { return false }
            default:
                return false
            }
            while index < text.count, text[index] != 0x0A { index += 1 }
        }
        return true
    }

    /// `GuessJSONStream(r, 4096)`: whether the first of the first 4096 bytes that is not a space
    /// (`unicode.IsSpace`) is `{`.
    static func startsAsJSON(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(4096), as: UTF8.self).unicodeScalars
        return head.first(where: { !goIsSpace($0) }) == "{"
    }

    /// `consumeWhitespace`: from `position`, blanks up to and including the first `\n`; nil where
    /// kubectl gives up (fewer than 4 bytes left to peek at, or a U+FFFD, its `utf8.RuneError`).
    private static func afterBlanks(_ bytes: [UInt8], from position: Int) -> Int? {
        var at = position
        while true {
            guard bytes.count - at >= 4 else { return nil }
            let scalar = String(decoding: bytes[at..<min(at + 4, bytes.count)], as: UTF8.self).unicodeScalars.first ?? "\u{FFFD}"
            if scalar == "\u{FFFD}" { return nil }
            if !goIsSpace(scalar) { return at }
            at += String(scalar).utf8.count
            if scalar == "\n" { return at }
        }
    }

    /// Go's `unicode.IsSpace`.
    static func goIsSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// One JSON value as YAML the parser reads as the same value: spaces before it keep its first
    /// line's columns; a surrogate pair escape (`\ud83d\ude80`, which libyaml refuses) becomes one
    /// `\UXXXXXXXX` escape and a lone one `\ufffd`, as Go's encoding/json decodes them; a raw
    /// U+0085, U+2028 or U+2029 in a string (a line break to YAML, not to JSON) becomes its escape.
    private static func jsonPiece(_ bytes: [UInt8], _ range: Range<Int>, lines: FileLines) -> Piece {
        let (line, column) = lines.location(ofByte: range.lowerBound)
        var out = [UInt8](repeating: 0x20, count: column - 1)
        var runs: [(piece: Int, file: Int, length: Int)] = []
        var runStart = range.lowerBound
        func flush(to end: Int) {
            if end > runStart { runs.append((out.count, runStart, end - runStart)) }
            out += bytes[runStart..<end]
        }
        func hex(at index: Int) -> UInt32? {
            guard index + 6 <= range.upperBound, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                return nil
            }
            return UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
        }
        var index = range.lowerBound
        var plain = true
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < range.upperBound {
                if let unit = hex(at: index), (0xD800...0xDFFF).contains(unit) {
                    flush(to: index)
                    if unit < 0xDC00, let low = hex(at: index + 6), (0xDC00...0xDFFF).contains(low) {
                        let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        out += Array(("\\U" + String(scalar, radix: 16, uppercase: true).leftPadded(to: 8)).utf8)
                        index += 12
                    } else {
                        out += Array("\\ufffd".utf8)
                        index += 6
                    }
                    runStart = index
                    plain = false
                    continue
                }
                index += 2
                continue
            }
            if let (length, scalar) = unholdableInYAML(bytes, at: index) {
                flush(to: index)
                out += Array("\\u\(String(scalar, radix: 16).leftPadded(to: 4))".utf8)
                index += length
                runStart = index
                plain = false
                continue
            }
            index += 1
        }
        flush(to: range.upperBound)
        return Piece(kind: .json, text: String(decoding: out, as: UTF8.self), runs: runs, firstLine: line, plain: plain)
    }

    /// A character at `index` that JSON holds raw in a string but YAML cannot: a line break to
    /// YAML only (U+0085, U+2028, U+2029), or one libyaml refuses as not printable (DEL, the C1
    /// controls U+0080…U+009F, U+FEFF, U+FFFE, U+FFFF: YAML 1.1 §5.1 `c-printable`), which Go's
    /// encoding/json takes. Its length in bytes and its scalar value, or nil.
    private static func unholdableInYAML(_ bytes: [UInt8], at index: Int) -> (length: Int, scalar: UInt32)? {
        let byte = bytes[index]
        if byte == 0x7F { return (1, 0x7F) }
        if byte == 0xC2, index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) {
            return (2, UInt32(bytes[index + 1]))
        }
        if byte == 0xE2, yamlOnlyBreak(bytes, at: index) == 3 { return (3, bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029) }
        if byte == 0xEF, index + 2 < bytes.count {
            switch (bytes[index + 1], bytes[index + 2]) {
            case (0xBB, 0xBF): return (3, 0xFEFF)
            case (0xBF, 0xBE): return (3, 0xFFFE)
            case (0xBF, 0xBF): return (3, 0xFFFF)
            default: return nil
            }
        }
        return nil
    }

    /// The length of a U+0085, U+2028 or U+2029 at `index` (line breaks to YAML 1.1, not to an
    /// editor or JSON), or 0.
    static func yamlOnlyBreak(_ bytes: [UInt8], at index: Int) -> Int {
        let byte = bytes[index]
        if byte == 0xC2, index + 1 < bytes.count, bytes[index + 1] == 0x85 { return 2 }
        if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
            return 3
        }
        return 0
    }

    /// `YAMLReader.Read` from `start`: the pieces between separator lines.
    /// The first bytes of what may shift a YAML line (CR, U+0085, U+2028/2029, a BOM): a switch,
    /// not an array literal, as it runs once per byte of the file.
    private static func mayBreakOrMark(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x0D, 0xC2, 0xE2, 0xEF: true
        default: false
        }
    }

    private static func yamlPieces(from start: Int, file: String, lines: FileLines) throws(ScenarioError) -> [Piece] {
        let bytes = lines.bytes
        var pieces: [Piece] = []
        var out: [UInt8] = []
        var runs: [(piece: Int, file: Int, length: Int)] = []
        // YAML after a JSON object on the same line: the parser's first column is not the file's.
        var plain = lines.location(ofByte: start).column == 1
        func emit() {
            guard !out.isEmpty, let first = runs.first else { return }
            // A piece of separators, blanks and comments alone decodes to nothing, which kubectl
            // skips (`StreamVisitor.Visit`: an empty or `null` piece is passed over): not parsed,
            // so a file of a million `---` lines costs a scan, not a million parses.
            if Self.holdsNothing(out) {
                out.removeAll()
                runs.removeAll()
                plain = true
                return
            }
            // go-yaml's reader drops a byte order mark at the start of its input (as the piece after
            // a separator of `cat a.yaml b.yaml` has); libyaml, told the encoding, would skip it as
            // a character of the line, shifting that line's indentation by one.
            if out.starts(with: [0xEF, 0xBB, 0xBF]), first.length >= 3 {
                out.removeFirst(3)
                runs = runs.enumerated().map { index, run in
                    index == 0 ? (0, run.file + 3, run.length - 3) : (run.piece - 3, run.file, run.length)
                }
            }
            pieces.append(
                Piece(
                    kind: .yaml, text: String(decoding: out, as: UTF8.self), runs: runs, firstLine: lines.location(ofByte: first.file).line,
                    plain: plain))
            out.removeAll()
            runs.removeAll()
            plain = true
        }
        var lineStart = start
        while lineStart < bytes.count {
            var newline = lineStart
            while newline < bytes.count, bytes[newline] != 0x0A { newline += 1 }
            var contentEnd = newline
            if newline < bytes.count, contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let content = bytes[lineStart..<contentEnd]
            if content.starts(with: [0x2D, 0x2D, 0x2D]) {
                let rest = String(decoding: content.dropFirst(3), as: UTF8.self)
                let trimmed = rest.unicodeScalars.drop(while: goIsSpace).reversed().drop(while: goIsSpace).reversed()
                if let first = trimmed.first, first != "#" {
                    let here = lines.location(ofByte: lineStart)
                    let shown = String(String.UnicodeScalarView(trimmed.prefix(40))).debugDescription
                    let crNote =
                        rest.contains("\r")
                        ? "; its lines end in a lone CR (old Mac line endings), and kubectl cuts lines at LF only, so the whole text is this one line"
                        : ""
                    throw ScenarioError(
                        SourceLocation(file: file, line: here.line, column: here.column),
                        "a line that starts with --- must be a document separator, --- then only blanks or a # comment, found \(shown)\(trimmed.count > 40 ? "…" : "") after it (kubectl: invalid Yaml document separator)\(crNote); put the content on the next line"
                    )
                }
                if !out.isEmpty {
                    emit()
                    lineStart = newline + 1
                    continue
                }
            }
            if let last = runs.last, last.piece + last.length + 1 == out.count, last.file + last.length + 1 == lineStart {
                // The line before ended in a bare LF, copied as it is: one run goes on (a file of
                // millions of lines keeps a few runs, not one per line).
                runs[runs.count - 1].length += 1 + content.count
            } else {
                runs.append((out.count, lineStart, content.count))
            }
            out += content
            // The file's last line keeps its missing line break: libyaml puts the end of the stream
            // on a line after it, which `MarkMap` maps back to the end of that line.
            if newline < bytes.count { out.append(0x0A) }
            if plain {
                for index in content.indices where Self.mayBreakOrMark(bytes[index]) {
                    if bytes[index] == 0x0D || yamlOnlyBreak(bytes, at: index) > 0
                        || (bytes[index] == 0xEF && index + 2 < bytes.count && bytes[index + 1] == 0xBB && bytes[index + 2] == 0xBF)
                    {
                        plain = false
                        break
                    }
                }
            }
            lineStart = newline + 1
        }
        emit()
        return pieces
    }
}

/// A file's lines as an editor shows them: a line ends at `\n`, `\r\n` or a lone `\r`; U+0085,
/// U+2028 and U+2029 (line breaks to YAML 1.1) do not end one. Columns count characters from 1;
/// a byte order mark, which editors hide, takes none.
struct FileLines {
    let bytes: [UInt8]
    /// The byte where each line starts.
    private(set) var starts: [Int] = [0]
    /// Characters before each byte (`counted[i]`: in `bytes[0..<i]`, a byte order mark not
    /// counted), built on the first column asked for: positions in a rewritten piece are asked
    /// for every node, and a walk from the line's start each time made a long line quadratic.
    private let counted = CharacterCounts()

    init(_ text: String) {
        bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0x0A || (byte == 0x0D && (index == bytes.count || bytes[index] != 0x0A)) { starts.append(index) }
        }
    }

    /// The line and column of the character at (or the one holding) byte `offset`.
    func location(ofByte offset: Int) -> (line: Int, column: Int) {
        let offset = max(0, min(offset, bytes.count))
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        let counts = counted.counts(of: bytes)
        return (low + 1, counts[offset] - counts[starts[low]] + 1)
    }
}

/// `FileLines`' character counts, made once (a class, so a `FileLines` value can fill it).
final class CharacterCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var made: [Int]?

    func counts(of bytes: [UInt8]) -> [Int] {
        lock.withLock {
            if let made { return made }
            var counts = [Int](repeating: 0, count: bytes.count + 1)
            var count = 0
            for index in 0..<bytes.count {
                counts[index] = count
                let isBOM = bytes[index] == 0xEF && index + 2 < bytes.count && bytes[index + 1] == 0xBB && bytes[index + 2] == 0xBF
                if bytes[index] & 0xC0 != 0x80 && !isBOM { count += 1 }
            }
            counts[bytes.count] = count
            made = counts
            return counts
        }
    }
}

/// Maps a piece's parser positions (libyaml's marks and byte offsets) to the file's lines and
/// columns, as an editor shows them.
struct PieceLocator {
    let piece: KubectlFraming.Piece
    let lines: FileLines
    private let utf8: [UInt8]
    /// Where each of the parser's lines starts in the piece: after \r\n, \r, \n, U+0085, U+2028
    /// or U+2029 (libyaml's and go-yaml's line breaks). Empty for a plain piece.
    private let lineStarts: [Int]
    /// The byte where each character of the piece starts, and the first character of each of
    /// the parser's lines: a position is a lookup, not a walk along the line.
    private var characterStarts: [Int] = []
    private var lineFirstCharacters: [Int] = []

    /// How many lines the parser reads in the piece (the last one may be empty).
    let parserLineCount: Int

    init(_ piece: KubectlFraming.Piece, in lines: FileLines) {
        self.piece = piece
        self.lines = lines
        guard !piece.plain else {
            (utf8, lineStarts) = ([], [])
            parserLineCount = piece.text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            return
        }
        let utf8 = Array(piece.text.utf8)
        var starts = [0]
        var index = 0
        while index < utf8.count {
            if utf8[index] == 0x0D {
                index += index + 1 < utf8.count && utf8[index + 1] == 0x0A ? 2 : 1
                starts.append(index)
            } else if utf8[index] == 0x0A {
                index += 1
                starts.append(index)
            } else {
                let length = KubectlFraming.yamlOnlyBreak(utf8, at: index)
                index += max(length, 1)
                if length > 0 { starts.append(index) }
            }
        }
        (self.utf8, lineStarts) = (utf8, starts)
        parserLineCount = starts.count
        var characterStarts: [Int] = []
        characterStarts.reserveCapacity(utf8.count)
        for (index, byte) in utf8.enumerated() where byte & 0xC0 != 0x80 { characterStarts.append(index) }
        self.characterStarts = characterStarts
        lineFirstCharacters = starts.map { start in
            var low = 0
            var high = characterStarts.count
            while low < high {
                let middle = (low + high) / 2
                if characterStarts[middle] < start { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    /// Where the parser's line `line` and column `column` (1-based, columns in characters) is in
    /// the file.
    func location(line: Int, column: Int) -> (line: Int, column: Int) {
        if piece.plain { return (piece.firstLine + line - 1, column) }
        let character = lineFirstCharacters[max(0, min(line - 1, lineFirstCharacters.count - 1))] + max(column, 1) - 1
        let index = character < characterStarts.count ? characterStarts[character] : utf8.count
        return lines.location(ofByte: fileByte(index))
    }

    /// Where the piece's byte `offset` is in the file.
    func location(ofByte offset: Int) -> (line: Int, column: Int) { lines.location(ofByte: fileByte(offset)) }

    /// The file byte of the piece's byte `offset`: in the run holding it, or the end of the run before.
    private func fileByte(_ offset: Int) -> Int {
        let runs = piece.runs
        guard !runs.isEmpty else { return 0 }
        var low = 0
        var high = runs.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if runs[middle].piece <= offset { low = middle } else { high = middle - 1 }
        }
        let run = runs[low]
        return run.file + min(max(offset - run.piece, 0), run.length)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
