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
