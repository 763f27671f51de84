import Foundation
import Glibc
import KeycardValues

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

    /// `text` with every character a terminal would act on written as `\u{XX}`, tab and line
    /// feed kept (`TerminalText.escapingControls`; so also carriage return: no line is overwritten).
    static func escapingControls(_ text: String) -> String { TerminalText.escapingControls(text) }

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
