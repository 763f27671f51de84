import Foundation

/// Turns a file's bytes into text as kubectl reads a manifest: cli-runtime's `FileVisitor` wraps
/// the file in `unicode.BOMOverride(unicode.UTF8.NewDecoder())` (k8s.io/cli-runtime
/// pkg/resource/visitor.go), so UTF-16 with a byte order mark (what Windows PowerShell 5's `>`
/// writes) is transcoded, a UTF-8 BOM is dropped, and anything else is read as UTF-8.
enum TextEncoding {
    /// The text of `data`, or nil when it is neither UTF-8 nor UTF-16 with a BOM.
    static func decode(_ data: Data) -> String? {
        let bytes = [UInt8](data.prefix(3))
        if bytes.starts(with: [0xFF, 0xFE]) { return String(data: data.dropFirst(2), encoding: .utf16LittleEndian) }
        if bytes.starts(with: [0xFE, 0xFF]) { return String(data: data.dropFirst(2), encoding: .utf16BigEndian) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(data: data.dropFirst(3), encoding: .utf8) }
        return String(data: data, encoding: .utf8)
    }

    /// `text` without a byte order mark (U+FEFF) at the start of a YAML document: at the start of
    /// the text or of the line after a `---` line (a comment may follow it). kubectl's YAMLReader splits a stream at `---`
    /// lines and go-yaml reads each document alone, skipping a leading BOM (YAML 1.2 §5.2 allows
    /// one before any document); files joined with `cat a.yaml b.yaml` have them. Removing the mark
    /// moves later text on that line one column left, as an editor (which hides it) shows it.
    static func strippingDocumentBOMs(_ text: String) -> String {
        let bom: Unicode.Scalar = "\u{FEFF}"
        guard text.unicodeScalars.contains(bom) else { return text }
        var result = String.UnicodeScalarView()
        var lineStart = true
        var afterSeparator = true
        var line: [Unicode.Scalar] = []
        func endLine() {
            // `---`, then nothing but blanks, or blanks and a `# comment`.
            let rest = line.dropFirst(3)
            let blank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
            let isSeparator =
                line.count >= 3 && line[0] == "-" && line[1] == "-" && line[2] == "-"
                && (rest.first.map(blank) ?? true) && rest.prefix { $0 != "#" }.allSatisfy(blank)
            afterSeparator = isSeparator
            line.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if lineStart, afterSeparator, scalar == bom {
                lineStart = false
                continue
            }
            lineStart = false
            result.append(scalar)
            if scalar == "\n" {
                endLine()
                lineStart = true
            } else if line.count < 64 {
                line.append(scalar)
            } else {
                line.append("x")  // longer than any separator line; the text itself is kept in result
            }
        }
        return String(result)
    }
}
