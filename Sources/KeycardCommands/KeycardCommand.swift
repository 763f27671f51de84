import ArgumentParser
import Foundation

/// `keycard`: prove zero-trust network policy on one Linux machine.
public struct KeycardCommand: ParsableCommand {
    /// The release keycard is (`keycard --version`, SARIF's `tool.driver.version`).
    public static let version = "0.10.0"

    public static let configuration = CommandConfiguration(
        commandName: "keycard",
        abstract: "Prove Kubernetes NetworkPolicy with real packets between network namespaces.",
        version: version,
        subcommands: [
            CheckCommand.self, ModelCommand.self, ExplainCommand.self, RulesCommand.self, RunCommand.self,
            UpCommand.self, DownCommand.self, StatusCommand.self, ProbeCommand.self, ScanCommand.self, ApplyCommand.self,
            DeleteCommand.self, LabelCommand.self, ServeCommand.self, GenerateCommand.self, LintCommand.self, DiffCommand.self,
            GraphCommand.self, ObserveCommand.self,
        ]
    )

    public init() {}

    /// `keycard` without a subcommand: the usage on stderr, exit 2 (a missing argument).
    public func run() throws {
        Console.write(Self.helpMessage() + "\n", to: STDERR_FILENO)
        throw ExitCode(Self.usageErrorStatus)
    }

    /// Sets up logging (`KEYCARD_LOG`), then parses the command line and runs the command.
    /// A usage error (unknown flag, bad option value, missing argument) exits 2, keycard's code for
    /// invalid input, instead of ArgumentParser's 64 (EX_USAGE); `--help` still exits 0.
    public static func start() {
        Log.bootstrap()
        // A closed stdout or stderr pipe is a failed write (Console.write), not the end of the
        // process: a run must still tear its lab down. Programs keycard starts get the default back.
        signal(SIGPIPE, SIG_IGN)
        // A terminal's live progress line is wiped however the command ends; held lines are written.
        atexit { Progress.finish() }
        // ArgumentParser's `help` shows the root help, exit 0, for a name it does not know.
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names: [String] = configuration.subcommands.compactMap { command in command.configuration.commandName }
        if arguments.first == "help", let name = arguments.dropFirst().first, !name.hasPrefix("-"), !names.contains(name), name != "help" {
            let listed = names.filter { $0 != ServeCommand.configuration.commandName }
            Console.write("keycard help: no command \"\(name)\"; the commands are \(listed.joined(separator: ", "))\n", to: STDERR_FILENO)
            Foundation.exit(usageErrorStatus)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            Console.write(fullMessage(for: error) + "\n", to: STDERR_FILENO)
            Foundation.exit(usageErrorStatus)
        }
    }

    /// The exit status of a command line keycard cannot parse: 2, as for any invalid input.
    public static let usageErrorStatus: Int32 = 2
}
