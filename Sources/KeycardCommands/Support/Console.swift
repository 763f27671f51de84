import Foundation
import Glibc

/// Writes to stdout and stderr.
enum Console {
    /// A line of output: text tables and the formats a format escapes itself (JSON, XML, YAML,
    /// DOT), in all of which a raw control character is either an error or a terminal command, so
    /// it is written escaped (`escapingControls`), as step names and descriptions quoted from the
    /// user's file may hold one.
    static func out(_ text: String) {
        Progress.clear()
        print(escapingControls(text))
    }

    /// `text` exactly as given, no newline added (an output whose bytes a format fixes).
    static func write(_ text: String) {
        Progress.clear()
        print(text, terminator: "")
    }

    /// Messages and warnings, which quote what the user's files hold: control characters in them
    /// are written escaped (`escapingControls`), so a manifest cannot drive the terminal.
    static func error(_ text: String) {
        Progress.clear()
        write(escapingControls(text) + "\n", to: STDERR_FILENO)
    }

    /// `text` with every character a terminal would act on written as `\u{XX}`: C0 controls but
    /// tab and line feed (so also carriage return: no line is overwritten), DEL, C1 controls (ECMA-48 escape and control sequences), and the
    /// bidirectional overrides and isolates that reorder what is shown (U+202A…U+202E,
    /// U+2066…U+2069: the "Trojan Source" characters, CVE-2021-42574).
    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isTerminalControl) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isTerminalControl(scalar) {
                escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    private static func isTerminalControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: false
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Writes `text` to `descriptor` with write(2) until all is written or a write fails: a closed
    /// pipe (EPIPE; keycard ignores SIGPIPE) loses the text instead of trapping as
    /// `FileHandle.write` does, so a run whose stderr is gone (`| head`) still tears its lab
    /// down. Returns whether every byte was written.
    @discardableResult
    static func write(_ text: String, to descriptor: Int32) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            bytes = bytes.dropFirst(written)
        }
        return true
    }

    /// Prints `value` as pretty JSON (sorted keys, unescaped slashes) and a newline. An empty
    /// top-level list is `[]`, as the docs show and np-guard writes (Foundation's pretty printer
    /// writes `[`, a blank line and `]`); nested ones keep the report's bytes.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        print(text.filter { !$0.isWhitespace } == "[]" ? "[]" : text)
    }
}
