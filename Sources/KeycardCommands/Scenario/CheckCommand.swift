import ArgumentParser
import KeycardModel
import KeycardScenario

/// `keycard check FILE...`: validate without touching the kernel.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate scenario files without touching the kernel (exit 2 with file:line:col messages when invalid)."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Scenario files, or plain Kubernetes manifests (files or folders), each checked on its own.") var files: [String]
    @OptionGroup var manifests: ManifestOptions

    func run() throws {
        logging.apply()
        var invalid = false
        for file in files {
            do {
                // Manifests are valid input however many cells their implicit probe would hold (the
                // API sets no such limit): a step over it is a warning, as lint, graph and diff read
                // them. A scenario file's probe step is its author's, and model and run would refuse it.
                let timeline =
                    ManifestLoader.isManifests(file)
                    ? try ScenarioInput.loadAll([file], manifests, cellLimit: .warn)[0] : try ScenarioInput.load(file)
                Console.out("\(file): ok (\(timeline.scenario.steps.count) steps, \(timeline.initial.pods.count) pods)")
            } catch {
                invalid = true
            }
        }
        if invalid { throw Exit.invalid }
    }
}
