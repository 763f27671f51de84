import ArgumentParser
import KeycardModel
import KeycardScenario

/// `keycard lint FILE|DIR...`: the policy mistakes the model can see, without root.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Find policy mistakes in scenarios or manifests (no root needed); exit 1 on findings at or above --fail-on."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, sarif
    }

    /// `--fail-on`: the lowest severity that fails the command, or `none`.
    enum FailOn: String, ExpressibleByArgument, CaseIterable {
        case error, warning, note, none

        var severity: LintSeverity? { LintSeverity(rawValue: rawValue) }
    }

    @OptionGroup var logging: LoggingOptions

    @OptionGroup var input: ScenarioFiles
    @Option(name: .shortAndLong, help: "table, json or sarif (SARIF 2.1.0, for GitHub code scanning).") var output: Format = .table
    @Option(name: .customLong("fail-on"), help: "Exit 1 on a finding at or above: error, warning, note or none.") var failOn: FailOn =
        .error

    func run() throws {
        logging.apply()
        // Lint judges policies over the cluster states, never a probe step's cells: a step over the
        // cell limit only warns.
        let report: LintReport
        let reported = ReportedErrors()
        do {
            report = try ScenarioInput.$reportedErrors.withValue(reported) {
                try input.load(cellLimit: .warn) { LintReport(inputs: input.files, findings: $0.flatMap(PolicyLinter.lint)) }
            }
        } catch {
            // Invalid input still exits 2 with its message on stderr; a SARIF consumer gets a valid
            // log saying the lint did not run, and why, rather than an empty file.
            if output == .sarif { Console.out(try SarifRenderer.render(failure: reported.errors.first ?? error)) }
            throw error
        }
        switch output {
        case .table: Console.out(LintTableRenderer.render(report))
        case .json: try Console.json(report)
        case .sarif: Console.out(try SarifRenderer.render(report))
        }
        if let threshold = failOn.severity, report.fails(at: threshold) { throw Exit.failed }
    }
}
