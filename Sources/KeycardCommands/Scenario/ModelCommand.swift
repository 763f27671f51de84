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

    @Argument(help: "Scenario files; plain Kubernetes manifests (files or folders) together as one cluster.") var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        logging.apply()
        var allPassed = true
        for timeline in try ScenarioInput.loadAll(files, manifests) {
            let report = ModelReport.build(timeline)
            allPassed = allPassed && report.passed
            switch output {
            case .json: try Console.json(report)
            case .table: Console.out(ModelTableRenderer(timeline: timeline, report: report).render())
            }
        }
        if !allPassed { throw Exit.failed }
    }
}
