import ArgumentParser
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario

/// `keycard probe LAB`: real packets between a live lab's pods, compared with the policy model of the
/// cluster the lab holds now. Exit 0 when every cell agrees with the model, 1 otherwise.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a live lab with real packets and compare with the policy model (exit 1 on a disagreement)."
    )

    @Argument(help: "The lab.") var lab: String
    @Option(help: "Sources, ns/pod[,ns/pod...] (default: every pod present).") var from: [String] = []
    @Option(help: "Destinations, ns/pod or external/NAME (default: every pod, then every external).") var to: [String] = []
    @Option(help: "PROTOCOL/PORT[,...] (default: every port some destination serves).") var ports: [String] = []
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        try Environment.requireRoot()
        let (live, results) = try LiveCommand.run("probe") { try probe() }
        let disagreements = results.filter { !$0.agrees }
        switch output {
        case .json:
            try Console.json(
                LiveProbeDocument(
                    lab: lab, enforcement: live.enforcement.rawValue,
                    agrees: disagreements.isEmpty, results: results))
        case .table:
            Console.out(LiveProbeTable(results: results).render())
            Console.out(
                "lab \(lab), enforcement \(live.enforcement.rawValue): \(results.count) probes, "
                    + (disagreements.isEmpty ? "all as the model says" : "\(disagreements.count) differ from the model"))
        }
        if !disagreements.isEmpty { throw Exit.failed }
    }

    private func probe() throws -> (LiveLab, [LiveProbeResult]) {
        let live = try LiveLab.open(lab)
        let cluster = live.cluster
        let sources = try LiveInput.list(from).map { text -> ObjectKey in
            guard let key = ObjectKey.parse(text), cluster.pods[key] != nil else {
                throw LiveError("--from \(text): no pod \(text) in lab \(lab)")
            }
            return key
        }
        let destinations = try LiveInput.list(to).map { text -> Endpoint in
            guard let endpoint = Endpoint.parse(text), cluster.address(of: endpoint) != nil,
                endpoint.isPresent(in: cluster)
            else { throw LiveError("--to \(text): no pod or external \(text) in lab \(lab)") }
            return endpoint
        }
        let portList = try LiveInput.list(ports).map { text -> ProtocolPort in
            guard let port = ProtocolPort.parse(text) else { throw LiveError("--ports \(text) must be PROTOCOL/NUMBER, like TCP/80") }
            return port
        }
        let rows = sources.isEmpty ? cluster.sortedPods.map(\.key) : sources
        let columns =
            destinations.isEmpty
            ? cluster.sortedPods.map { Endpoint.pod($0.key) }
                + cluster.externals.values.sorted { $0.name < $1.name }.map { .external($0.name) }
            : destinations
        let probed = portList.isEmpty ? Set(columns.flatMap { cluster.servedPorts(of: $0) }).sorted() : portList
        if rows.isEmpty { throw LiveError("lab \(lab) has no pod to probe from") }
        if probed.isEmpty { throw LiveError("no destination serves a port: name ports with --ports") }

        let engine = PolicyEngine(cluster)
        let netns = LabServing.podNamespaces(live.state.plan)
        let commandPods = Set(live.state.plan.pods.filter { !($0.command ?? []).isEmpty }.map { ObjectKey($0.namespace, $0.name) })
        var cells: [(ObjectKey, Endpoint, ProtocolPort)] = []
        var requests: [ProbeRequest] = []
        for port in probed {
            for source in rows {
                for destination in columns {
                    guard let namespace = netns[source], let ip = cluster.address(of: destination) else { continue }
                    var handshakeOnly = false
                    if case .pod(let key) = destination { handshakeOnly = commandPods.contains(key) }
                    cells.append((source, destination, port))
                    requests.append(
                        ProbeRequest(
                            sourceNamespace: namespace, destination: ip.description, proto: port.proto.socket,
                            port: UInt16(port.port), handshakeOnly: handshakeOnly))
                }
            }
        }
        let settings = live.timeline.scenario.probeDefaults
        let outcomes = try Prober().probe(requests, timeout: .milliseconds(settings.timeoutMilliseconds), retries: settings.retries)
        let results = zip(cells, outcomes).map { cell, outcome in
            LiveProbeResult(
                from: cell.0, to: cell.1, port: cell.2,
                model: engine.evaluate(from: .pod(cell.0), to: cell.1, port: cell.2).decision, outcome: outcome)
        }
        return (live, results)
    }
}

extension Endpoint {
    func isPresent(in cluster: Cluster) -> Bool {
        switch self {
        case .pod(let key): cluster.pods[key] != nil
        case .external(let name): cluster.externals[name] != nil
        case .address: true
        }
    }
}

extension TransportProtocol {
    var socket: SocketProtocol {
        switch self {
        case .tcp: .tcp
        case .udp: .udp
        case .sctp: .sctp
        }
    }
}
