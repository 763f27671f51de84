import Foundation

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
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
