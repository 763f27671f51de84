import ArgumentParser
import KeycardModel
import KeycardScenario

/// `keycard model FILE`: what the policy model expects at every probe step, without root.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Show what the policy model expects at every step (no root needed)."
    )

    @OptionGroup var logging: LoggingOptions

    @OptionGroup var input: ScenarioFiles
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        logging.apply()
        var allPassed = true
        for timeline in try input.load() {
            // The cells are judged once: the report and the table show the same ones.
            let cells = timeline.probeCells()
            let report = ModelReport.build(timeline, probeCells: cells)
            allPassed = allPassed && report.passed
            switch output {
            case .json: try Console.json(report)
            case .table: Console.out(ModelTableRenderer(timeline: timeline, report: report, probeCells: cells).render())
            }
        }
        if !allPassed { throw Exit.failed }
    }
}
