import ArgumentParser
import KeycardModel
import KeycardScenario

/// `keycard graph FILE`: who may talk to whom, as DOT or SVG (no root).
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract:
            "Draw the allowed-connectivity graph (namespaces as clusters, edges labelled with ports, denied-but-probed flows dashed) as DOT or SVG."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, svg
    }

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "A scenario file, or plain Kubernetes manifests (files or folders) as one cluster.") var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(help: "The state after this step (0: the resources alone); default: after the last step.") var step: Int?
    @Option(name: .shortAndLong, help: "dot, or svg (laid out by graphviz's dot).") var output: Format = .dot

    func run() throws {
        logging.apply()
        // The graph judges pairs of peers, not a probe step's cells: a step over the cell limit
        // only warns (and draws no denied edge, `ConnectivityGraph`).
        let timeline = try ScenarioInput.loadOne(files, manifests, for: "graph", cellLimit: .warn)
        if let step, step < 0 || step > timeline.scenario.steps.count {
            Console.error("\(timeline.scenario.file): --step \(step): the scenario has \(timeline.scenario.steps.count) steps")
            throw Exit.invalid
        }
        let source = GraphDotRenderer.render(ConnectivityGraph(timeline, afterStep: step), title: Self.title(timeline, step: step))
        switch output {
        case .dot: Console.out(source)
        case .svg:
            do {
                Console.out(try Graphviz.svg(source))
            } catch {
                Console.error("\(error)")
                throw Exit.invalid
            }
        }
    }

    static func title(_ timeline: Timeline, step: Int?) -> String {
        let index = step ?? timeline.scenario.steps.count
        return "\(timeline.scenario.name): allowed connectivity " + (index == 0 ? "of the resources" : "after step \(index)")
    }
}
