import ArgumentParser
import Foundation
import KeycardValues
import Logging
import Synchronization

/// keycard's diagnostics through swift-log: one handler writing `level label: message` lines to
/// stderr (stdout stays for reports), at the level `--verbose` or `KEYCARD_LOG` sets
/// (trace, debug, info, notice, warning, error, critical; default warning).
enum Log {
    /// The level in force; the handler reads it at each message, so `--verbose` can raise it after
    /// the system was bootstrapped.
    private static let level = Mutex<Logger.Level>(.warning)
    private static let bootstrapped = Mutex(false)

    /// Installs the handler once per process (swift-log allows one bootstrap), reading `KEYCARD_LOG`.
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label) }
        guard let text = environment["KEYCARD_LOG"], !text.isEmpty else { return }
        if let parsed = Logger.Level(rawValue: text.lowercased()) {
            level.withLock { $0 = parsed }
        } else {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            Console.error("warning: KEYCARD_LOG=\(text) is not a level (\(levels)): logging stays at \(current)")
        }
    }

    /// `--verbose`: debug, unless `KEYCARD_LOG` asked for even more.
    static func verbose() {
        level.withLock { if $0 > .debug { $0 = .debug } }
    }

    static var current: Logger.Level { level.withLock { $0 } }

    /// One line per message on stderr: `debug keycard.lab: lab web up in 0.41 s [pods=9]`.
    struct StderrLogHandler: LogHandler {
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level {
            get { Log.current }
            set {}
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let suffix =
                merged.isEmpty ? "" : " [" + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]"
            Console.error("\(event.level) \(label): \(event.message)\(suffix)")
        }
    }
}

/// `--verbose`, shared by every command.
struct LoggingOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what keycard does to stderr (debug level; KEYCARD_LOG=trace|debug|info|... sets any level).")
    var verbose = false

    /// Applies the flag (the system is bootstrapped at start-up).
    func apply() {
        if verbose { Log.verbose() }
    }
}

/// The lab a live verb works on, with the logging options.
struct LabOptions: ParsableArguments {
    @Argument(help: "The lab (its scenario's metadata.name).") var lab: String
    @OptionGroup var logging: LoggingOptions

    /// An invalid lab name ends the command (exit 2) before it runs (`LabArgument.check`).
    func validate() throws { try LabArgument.check(lab) }
}

/// A lab name given on the command line, checked with the rule of a scenario's `metadata.name`
/// (`LabName`, the rule `keycard up` and `run` apply): the name becomes `/run/keycard/<lab>`, so
/// an empty name or one with `/` or `..` must be refused before anything is created or read there.
enum LabArgument {
    /// Prints `lab name "NAME" PROBLEM` on stderr and throws exit code 2 when `name` is not a
    /// valid lab name; returns when it is.
    static func check(_ name: String) throws {
        guard let problem = LabName.problem(name) else { return }
        Console.error("lab name \"\(name)\" \(problem) (a lab is named by its scenario's metadata.name)")
        throw Exit.invalid
    }
}
