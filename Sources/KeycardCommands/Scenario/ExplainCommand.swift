import ArgumentParser
import KeycardModel
import KeycardScenario
import KeycardValues

/// `keycard explain FILE --from x/a --to y/b --port TCP/80`: the verdict and why.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the model's verdict for one connection: which policies isolate each side, which rule allows.",
        discussion: "Without --after-step the state after the last step is explained; --after-step 0 means after the resources."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Scenario file.") var file: String
    @Option(help: "Source pod as namespace/name.") var from: String
    @Option(help: "Destination: namespace/name, external/NAME or svc/namespace/name (each backend).") var to: String
    @Option(help: "PROTOCOL/PORT, like TCP/80.") var port: String
    @Option(help: "Explain the state after this step (0: after the resources).") var afterStep: Int?
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func validate() throws {
        guard let key = ObjectKey.parse(from), key.namespace != "external" else {
            throw ValidationError("--from must be a pod as namespace/name")
        }
        guard Endpoint.parse(to) != nil else { throw ValidationError("--to must be namespace/name, external/NAME or svc/namespace/name") }
        guard ProtocolPort.parse(port) != nil else { throw ValidationError("--port must be like TCP/80, UDP/53 or SCTP/9") }
    }

    func run() throws {
        logging.apply()
        let timeline = try ScenarioInput.load(file)
        let steps = timeline.scenario.steps.count
        let step = afterStep ?? steps
        guard (0...steps).contains(step) else {
            Console.error("--after-step must be from 0 to \(steps)")
            throw Exit.invalid
        }
        let cluster = timeline.cluster(afterStep: step)
        // validate() has checked all three parse.
        guard let source = ObjectKey.parse(from), let destination = Endpoint.parse(to), let port = ProtocolPort.parse(port) else {
            throw Exit.invalid
        }
        guard cluster.pods[source] != nil else {
            Console.error("pod \(source) does not exist after step \(step)")
            throw Exit.invalid
        }
        switch destination {
        case .pod(let key) where cluster.pods[key] == nil:
            Console.error("pod \(key) does not exist after step \(step)")
            throw Exit.invalid
        case .external(let name) where cluster.externals[name] == nil:
            Console.error("external \(name) is not declared")
            throw Exit.invalid
        case .service(let key, _) where cluster.services[key]?.clusterIP == nil:
            Console.error("Service \(key) does not exist after step \(step) or has no ClusterIP")
            throw Exit.invalid
        default: break
        }
        // A Service is explained once per backend: each is its own connection after translation.
        let explanations = Timeline.aimed(destination, port, cluster).map { target in
            Explanation(
                PolicyEngine(cluster).evaluate(from: .pod(source), to: target, port: port), cluster: cluster, afterStep: step, of: steps)
        }
        if explanations.isEmpty {
            Console.error("Service \(destination) has no port \(port)")
            throw Exit.invalid
        }
        switch output {
        case .json: if explanations.count == 1 { try Console.json(explanations[0]) } else { try Console.json(explanations) }
        case .table: Console.out(explanations.map(\.text).joined(separator: "\n"))
        }
    }
}
