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
        var reports: [Report] = []
        for timeline in try input.load() {
            // The cells are judged once: the report and the table show the same ones.
            let cells = timeline.probeCells()
            let report = ModelReport.build(timeline, probeCells: cells)
            reports.append(report)
            if output == .table {
                Console.out(ModelTableRenderer(timeline: timeline, report: report, probeCells: cells).render())
            }
        }
        // Several files make one JSON document, an array, as `run -o json` writes them.
        if output == .json { try reports.count == 1 ? Console.json(reports[0]) : Console.json(reports) }
        if !reports.allSatisfy(\.passed) { throw Exit.failed }
    }
}
