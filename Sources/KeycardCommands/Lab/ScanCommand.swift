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
        // What the model does not judge (a node port from inside the cluster, hairpin) is shown,
        // not compared (`Cluster.scanTargets`).
        let judged = results.filter { $0.prediction.model != nil }
        let observedOpen = Set(judged.filter { $0.observed == .open }.map(\.endpoint))
        let modelOpen = Set(judged.filter { $0.prediction.model == .open }.map(\.endpoint))
        let agrees = observedOpen == modelOpen
        let reached = Set(results.filter { $0.observed == .open }.map(\.endpoint))
        // Every pod endpoint, filtered ones included (as a scenario's scan step reports them); of a
        // CIDR's bare addresses only those something answered or the model opens.
        let shown = results.filter { !$0.prediction.isQuiet(observed: $0.observed) }
        switch output {
        case .json:
            try Console.json(
                LiveScanDocument(
                    lab: lab, from: from, agrees: agrees, blastRadius: ModelReport.blastRadius(reached),
                    results: shown.map(\.record)))
        case .table:
            for result in shown {
                let model = result.prediction.model
                let mark = model == nil || result.observed == model ? " " : "!"
                Console.out(
                    "\(mark) \(result.record.to ?? result.record.ip.description):\(result.record.port) (\(result.record.ip))  observed \(result.observed.rawValue), model \(model?.rawValue ?? "not judged")"
                )
            }
            Console.out(
                "scan from \(from): \(ModelReport.blastRadius(reached))"
                    + (agrees ? "; as the model says" : "; differs from the model"))
        }
        if !agrees { throw Exit.failed }
    }

    /// `--ports`: TCP port numbers 1-65535, at least one, none twice (`LiveInput.distinct`, as
    /// `keycard probe --ports`).
    static func portList(_ values: [String]) throws(LiveError) -> [Int] {
        let portList = try LiveInput.distinct(values, option: "--ports") { text throws(LiveError) -> Int in
            guard let port = Int(text), (1...65535).contains(port) else {
                throw LiveError("--ports \(text) must be a TCP port number 1-65535")
            }
            return port
        }
        if portList.isEmpty { throw LiveError("--ports must name at least one port") }
        return portList
    }

    private struct Target {
        var endpoint: ScanEndpoint
        var record: ScanResult
        var prediction: PredictedScan
        var observed: ScanState
    }

    private func scan() throws -> [Target] {
        // Shared with other readers, never with a change (`LiveLock`), as `probe`.
        let lock = try LiveLock.reading(lab)
        defer { lock?.release() }
        // Settled first, then read: the record is the one the kernel holds once no change is
        // under way (read before, it would be the cluster before the change waited for).
        try LiveLab.requireSettled(lab, locked: lock != nil)
        let live = try LiveLab.open(lab)
        try live.requireLabProcess()
        // Audit mode enforces nothing: the scan must find what it would without policies.
        let cluster = live.auditing ? live.cluster.withoutPolicies : live.cluster
        // A pod, or an external (external/NAME) scanning from its own namespace behind the router.
        guard let source = ObjectKey.parse(from),
            cluster.hasSource(source),
            let netns = LabServing.sourceNamespaces(live.state.plan)[source]
        else {
            throw LiveError("--from \(from): no pod (ns/pod), external (external/NAME) or node (node/NAME) \(from) in lab \(lab)")
        }
        let portList = try Self.portList(ports)
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
        // What the lab's port servers listen on: fixed when it was brought up.
        var listening: [ObjectKey: Set<ProtocolPort>] = [:]
        for pod in live.state.plan.pods {
            listening[ObjectKey(pod.namespace, pod.name)] = Set(pod.ports.map { ProtocolPort($0.proto, Int($0.port)) })
        }
        for target in cluster.scanTargets(from: source, scanned, ports: portList, meshIdentity: nil, listening: listening) {
            let (endpoint, ip, port) = (target.endpoint, target.ip, target.port)
            probes.append(ScanProbe(endpoint: endpoint, ip: ip, port: port))
            targetList.append(
                Target(
                    endpoint: ModelReport.scanEndpoint(endpoint, ip, port),
                    record: ScanResult(target, from: source),
                    prediction: target, observed: .filtered))
        }
        var runner = SocketProbeRunner(namespaces: [source: netns], addresses: { _ in nil })
        // Connections to a Service address aim at the backend the model chose.
        runner.services = ServiceAim(cluster)
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
