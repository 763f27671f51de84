import ArgumentParser
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues

/// `keycard probe LAB`: real packets between a live lab's pods, compared with the policy model of the
/// cluster the lab holds now. Exit 0 when every cell agrees with the model, 1 otherwise.
struct ProbeCommand: LiveVerb {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a live lab with real packets and compare with the policy model (exit 1 on a disagreement)."
    )

    @OptionGroup var options: LabOptions
    @Option(help: "Sources, ns/pod, ns/kind/name (every pod of a workload), external/NAME or node/NAME[,...] (default: every pod present).")
    var from: [String] = []
    @Option(help: "Destinations, ns/pod, ns/kind/name or external/NAME (default: every pod, then every external).") var to: [String] = []
    @Option(help: "PROTOCOL/PORT[,...] (default: every port some destination serves).") var ports: [String] = []
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        let (live, results) = try perform { try probe() }
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
        // A workload (ns/deployment/web) stands for every pod it runs now.
        let sources = try LiveInput.list(from).flatMap { text -> [ObjectKey] in
            if let workload = WorkloadKey.parse(text), cluster.workloads[workload] != nil { return cluster.pods(of: workload).map(\.key) }
            // An external (external/NAME) probes from its own namespace behind the router, a node
            // (node/NAME) from its own namespace with its address.
            guard let key = ObjectKey.parse(text),
                cluster.hasSource(key)
            else {
                throw LiveError("--from \(text): no pod, workload, external or node \(text) in lab \(lab)")
            }
            return [key]
        }
        let destinations = try LiveInput.list(to).flatMap { text -> [Endpoint] in
            if let workload = WorkloadKey.parse(text), cluster.workloads[workload] != nil {
                return cluster.pods(of: workload).map { .pod($0.key) }
            }
            guard let endpoint = Endpoint.parse(text).map(cluster.resolve), cluster.address(of: endpoint) != nil,
                endpoint.isPresent(in: cluster)
            else { throw LiveError("--to \(text): no pod, workload or external \(text) in lab \(lab)") }
            return [endpoint]
        }
        let portList = try LiveInput.list(ports).map { text -> ProtocolPort in
            guard let port = ProtocolPort.parse(text) else { throw LiveError("--ports \(text) must be PROTOCOL/NUMBER, like TCP/80") }
            return port
        }
        // The cluster DNS pod is probed by dns steps, not by default tables (as in `keycard run`).
        let pods = cluster.sortedPods.filter { $0.key.description != live.state.plan.dns?.serverPod }
        let rows = sources.isEmpty ? pods.map(\.key) : sources
        let columns =
            destinations.isEmpty
            ? pods.map { Endpoint.pod($0.key) }
                + cluster.externals.values.sorted { $0.name < $1.name }.map { .external($0.name) }
            : destinations
        let probed = portList.isEmpty ? Set(columns.flatMap { cluster.servedPorts(of: $0) }).sorted() : portList
        if rows.isEmpty { throw LiveError("lab \(lab) has no pod to probe from") }
        if probed.isEmpty { throw LiveError("no destination serves a port: name ports with --ports") }

        // The same probe runner and evidence as `keycard run`: sockets in the source pods'
        // namespaces, denials settled at once by the kernel's logged drops where it can.
        let engine = PolicyEngine(cluster)
        let plan = live.state.plan
        var cells: [ProbeCell] = []
        for port in probed {
            for source in rows {
                for destination in columns where cluster.address(of: destination) != nil {
                    cells.append(
                        ProbeCell(
                            from: source, to: destination, port: port, expected: .model,
                            verdict: engine.evaluate(fromSource: source, to: destination, port: port)))
                }
            }
        }
        let evidence = try? SocketProbeRunner.openEvidence(plan, enforcement: live.enforcement)
        let runner = SocketProbeRunner(
            namespaces: LabServing.sourceNamespaces(plan), addresses: { [cluster] in cluster.address(of: $0) },
            programPods: LabServing.programPods(plan), evidence: evidence)
        let observations = try runner.observe(cells, settings: live.timeline.scenario.probeDefaults)
        let results = zip(cells, observations).map { LiveProbeResult(cell: $0, observation: $1) }
        return (live, results)
    }
}

extension Endpoint {
    func isPresent(in cluster: Cluster) -> Bool {
        switch self {
        case .pod(let key): cluster.pods[key] != nil
        case .external(let name): cluster.externals[name] != nil
        // A node is a probe source only: it serves nothing in the lab.
        case .node: false
        case .address: true
        case .service(let key, _), .exposed(let key, _, _): cluster.services[key] != nil
        }
    }
}
