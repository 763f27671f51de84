import ArgumentParser
import Foundation
import KeycardScenario

/// Loads scenarios for a command: errors go to stderr as `file:line:col: message` and end the
/// command with exit code 2; warnings go to stderr and the command goes on.
enum ScenarioInput {
    static func load(_ path: String) throws -> Timeline {
        do {
            let timeline = try ScenarioLoader.timeline(path)
            for warning in timeline.warnings { Console.error(warning.description) }
            return timeline
        } catch {
            Console.error(error.description)
            throw Exit.invalid
        }
    }
}

/// Writes to stdout and stderr.
enum Console {
    static func out(_ text: String) { print(text) }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
