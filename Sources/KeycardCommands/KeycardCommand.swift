import ArgumentParser
import Foundation

/// `keycard`: prove zero-trust network policy on one Linux machine.
public struct KeycardCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keycard",
        abstract: "Prove Kubernetes NetworkPolicy with real packets between network namespaces.",
        subcommands: [
            CheckCommand.self, ModelCommand.self, ExplainCommand.self, RulesCommand.self, RunCommand.self,
            UpCommand.self, DownCommand.self, StatusCommand.self, ProbeCommand.self, ScanCommand.self, ApplyCommand.self,
            DeleteCommand.self, LabelCommand.self, ServeCommand.self, GenerateCommand.self, LintCommand.self, DiffCommand.self,
            GraphCommand.self, ObserveCommand.self,
        ]
    )

    public init() {}

    /// Sets up logging (`KEYCARD_LOG`), then parses the command line and runs the command.
    public static func start() {
        Log.bootstrap()
        // A terminal's live progress line is wiped however the command ends.
        atexit { Progress.clear() }
        main()
    }
}
