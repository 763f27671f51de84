import Foundation
import Glibc

/// Writes to stdout and stderr.
enum Console {
    static func out(_ text: String) {
        Progress.clear()
        print(text)
    }

    /// `text` exactly as given, no newline added (an output whose bytes a format fixes).
    static func write(_ text: String) {
        Progress.clear()
        print(text, terminator: "")
    }

    static func error(_ text: String) {
        Progress.clear()
        write(text + "\n", to: STDERR_FILENO)
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

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
