import ArgumentParser
import KeycardModel
import KeycardScenario
import KeycardValues

/// `keycard check FILE...`: validate without touching the kernel; scenario files each on their
/// own, plain manifests together as the one cluster `model` and `run` make of them.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate scenario files without touching the kernel (exit 2 with file:line:col messages when invalid)."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(
        help:
            "Scenario files, each checked on its own; plain Kubernetes manifests (files or folders) together as one cluster, as model and run load them; - reads standard input."
    ) var files: [String]
    @OptionGroup var manifests: ManifestOptions

    func run() throws {
        logging.apply()
        try ScenarioInput.withStandardInput(files) { try check($0) }
    }

    /// Checks `files` (`-` already `STDIN`, read from standard input).
    private func check(_ files: [String]) throws {
        var invalid = false
        // Plain manifests are one cluster (`ScenarioInput.loadAll`), checked once, in the place of
        // the first of them: two files that clash (one clusterIP twice) are invalid together.
        let manifestPaths = ManifestLoader.manifestPaths(files)
        var manifestsDone = false
        for file in files {
            let isManifests = manifestPaths.contains(file)
            if isManifests && manifestsDone { continue }
            do {
                // Manifests are valid input however many cells their implicit probe would hold (the
                // API sets no such limit): a step over it is a warning, as lint, graph and diff read
                // them. A scenario file's probe step is its author's, and model and run would refuse it.
                let timeline: Timeline
                let name: String
                if isManifests {
                    manifestsDone = true
                    name = manifestPaths.joined(separator: " ")
                    timeline = try ScenarioInput.loadAll(manifestPaths, manifests, cellLimit: .warn)[0]
                } else {
                    name = file
                    timeline = try ScenarioInput.load(file)
                }
                // The user's pods: the cluster DNS pod keycard adds is not one of them.
                let pods = timeline.initial.pods.keys.count { $0 != ClusterDNS.podKey }
                Console.out("\(name): ok (\(counted(timeline.scenario.steps.count, "step")), \(counted(pods, "pod")))")
            } catch {
                invalid = true
            }
        }
        if invalid { throw Exit.invalid }
    }
}
