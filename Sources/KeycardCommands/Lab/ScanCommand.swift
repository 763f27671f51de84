import ArgumentParser
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues

/// `keycard scan LAB --from ns/pod --ports 22,80`: a TCP connect scan from inside one pod of a live
/// lab, compared with the model. Exit 0 when the open set equals the model's, 1 otherwise.
struct ScanCommand: LiveVerb {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "TCP connect scan from one pod of a live lab: open, closed or filtered per endpoint, and the blast radius."
    )

    @OptionGroup var options: LabOptions
    @Option(help: "Who scans: a pod (ns/pod), an external (external/NAME) or a node (node/NAME).") var from: String
    @Option(help: "TCP ports, e.g. 22,80,443.") var ports: [String]
    @Option(help: "pods (default) or a CIDR (every address in it, at most a /16).") var targets = "pods"
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        let results = try perform { try scan() }
        let observedOpen = Set(results.filter { $0.observed == .open }.map(\.endpoint))
        let modelOpen = Set(results.filter { $0.model == .open }.map(\.endpoint))
        let agrees = observedOpen == modelOpen
        // Every pod endpoint, filtered ones included (as a scenario's scan step reports them); of a
        // CIDR's bare addresses only those something answered or the model opens.
        let shown = results.filter { $0.observed != .filtered || $0.model != .filtered || $0.record.to != nil }
        switch output {
        case .json:
            try Console.json(
                LiveScanDocument(
                    lab: lab, from: from, agrees: agrees, blastRadius: ModelReport.blastRadius(observedOpen),
                    results: shown.map(\.record)))
        case .table:
            for result in shown {
                let mark = result.observed == result.model ? " " : "!"
                Console.out(
                    "\(mark) \(result.record.to ?? result.record.ip.description):\(result.record.port) (\(result.record.ip))  observed \(result.observed.rawValue), model \(result.model.rawValue)"
                )
            }
            Console.out(
                "scan from \(from): \(ModelReport.blastRadius(observedOpen))"
                    + (agrees ? "; as the model says" : "; differs from the model"))
        }
        if !agrees { throw Exit.failed }
    }

    private struct Target {
        var endpoint: ScanEndpoint
        var record: ScanResult
        var model: ScanState
        var observed: ScanState
    }

    private func scan() throws -> [Target] {
        let live = try LiveLab.open(lab)
        let cluster = live.cluster
        // A pod, or an external (external/NAME) scanning from its own namespace behind the router.
        guard let source = ObjectKey.parse(from),
            cluster.hasSource(source),
            let netns = LabServing.sourceNamespaces(live.state.plan)[source]
        else {
            throw LiveError("--from \(from): no pod (ns/pod), external (external/NAME) or node (node/NAME) \(from) in lab \(lab)")
        }
        let portList = try LiveInput.list(ports).map { text -> Int in
            guard let port = Int(text), (1...65535).contains(port) else {
                throw LiveError("--ports \(text) must be a TCP port number 1-65535")
            }
            return port
        }
        if portList.isEmpty { throw LiveError("--ports must name at least one port") }
        let scanned: ScanStep.Targets
        if targets == "pods" {
            scanned = .pods
        } else {
            guard let cidr = CIDR.parse(targets), cidr.family == .ipv4, cidr.prefixLength >= 16 else {
                throw LiveError("--targets \(targets) must be pods or an IPv4 CIDR of at most a /16, like 10.244.0.0/24")
            }
            if let problem = ScanStep.sizeProblem(cidr, ports: portList.count) { throw LiveError(problem) }
            scanned = .cidr(cidr)
        }
        // A live lab runs no mesh (keycard up refuses one): the network's model alone.
        var targetList: [Target] = []
        var probes: [ScanProbe] = []
        for (endpoint, ip, port, model) in cluster.scanTargets(from: source, scanned, ports: portList, meshIdentity: nil) {
            probes.append(ScanProbe(endpoint: endpoint, ip: ip, port: port))
            targetList.append(
                Target(
                    endpoint: ModelReport.scanEndpoint(endpoint, ip, port),
                    record: ScanResult(from: source, to: ModelReport.name(of: endpoint), ip: ip, port: port, model: model),
                    model: model, observed: .filtered))
        }
        let runner = SocketProbeRunner(namespaces: [source: netns], addresses: { _ in nil })
        let states = try runner.scan(from: source, probes, settings: live.timeline.scenario.probeDefaults, identity: .mesh)
        for (index, state) in states.enumerated() {
            targetList[index].observed = state
            targetList[index].record.observed = state
        }
        return targetList
    }
}

/// `keycard scan -o json`.
struct LiveScanDocument: Encodable {
    var lab: String
    var from: String
    var agrees: Bool
    var blastRadius: String
    var results: [ScanResult]
}
