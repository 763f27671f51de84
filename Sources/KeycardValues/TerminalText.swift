/// Text quoted from the user's files made safe to show on a terminal: every character a terminal
/// would act on written as `\u{XX}`.
public enum TerminalText {
    /// `text` with C0 controls, DEL, C1 controls (ECMA-48 escape and control sequences) and the
    /// bidirectional overrides and isolates that reorder what is shown (U+202A…U+202E,
    /// U+2066…U+2069: the "Trojan Source" characters, CVE-2021-42574) escaped. Tab and line feed
    /// stay when `keepingLineBreaks` (output that is laid out in lines); in a one-line message
    /// (`file:line:col: message`) they are escaped too, so a name holding one cannot split it.
    public static func escapingControls(_ text: String, keepingLineBreaks: Bool = true) -> String {
        let isControl = { (scalar: Unicode.Scalar) in isTerminalControl(scalar, keepingLineBreaks: keepingLineBreaks) }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    private static func isTerminalControl(_ scalar: Unicode.Scalar, keepingLineBreaks: Bool) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: !keepingLineBreaks
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
