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
    @Option(
        help:
            "Destinations, ns/pod, ns/kind/name, external/NAME or svc/NS/NAME (through its ClusterIP; @node-N or @lb through a node port or the load balancer) (default: every pod, then every external)."
    )
    var to: [String] = []
    @Option(help: "PROTOCOL/PORT[,...] (default: every port some destination serves).") var ports: [String] = []
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func run() throws {
        let (live, results) = try perform { try probe() }
        let disagreements = results.filter { !$0.passed }
        switch output {
        case .json:
            try Console.json(
                LiveProbeDocument(
                    lab: lab, enforcement: live.enforcement.rawValue,
                    agrees: disagreements.isEmpty, results: results))
        case .table:
            Console.out(LiveProbeTable(results: results).render())
            Console.out(
                "lab \(lab), enforcement \(live.enforcement.rawValue): \(counted(results.count, "probe")), "
                    + (disagreements.isEmpty ? "all as the model says" : "\(disagreements.count) differ from the model"))
        }
        if !disagreements.isEmpty { throw Exit.failed }
    }

    private func probe() throws -> (LiveLab, [ProbeResult]) {
        // Shared with other readers, never with a change: the cluster read here is the one the
        // kernel holds while the packets go (`LiveLock`).
        let lock = try LiveLock.reading(lab)
        defer { lock?.release() }
        // Settled first, then read: the record is the one the kernel holds once no change is
        // under way (read before, it would be the cluster before the change waited for).
        try LiveLab.requireSettled(lab, locked: lock != nil)
        let live = try LiveLab.open(lab)
        let cluster = live.cluster
        let sources = try LiveInput.list(from, option: "--from").map { text -> ProbeRef in
            guard let ref = ProbeRef.parse(text), ref.isSource else {
                throw LiveError("--from \(text): not a pod (ns/name), workload (ns/kind/name), external/NAME or node/NAME")
            }
            return ref
        }
        let destinations = try LiveInput.list(to, option: "--to").map { text -> ProbeRef in
            guard let ref = ProbeRef.parse(text) else {
                throw LiveError("--to \(text): not a pod (ns/name), workload (ns/kind/name), external/NAME or svc/NS/NAME[@node-N|@lb]")
            }
            return ref
        }
        let portList = try LiveInput.distinct(ports, option: "--ports") { text throws(LiveError) -> ProtocolPort in
            guard let port = ProtocolPort.parse(text) else { throw LiveError("--ports \(text) must be PROTOCOL/NUMBER, like TCP/80") }
            return port
        }
        // The same resolution, checks and model cells as a scenario's probe step; the cluster DNS
        // pod is probed by dns steps, not by default tables (as in `keycard run`).
        let plan = live.state.plan
        let probe: ResolvedProbe
        do {
            probe = try ResolvedProbe(
                live: sources.isEmpty ? nil : sources, to: destinations.isEmpty ? nil : destinations,
                ports: portList.isEmpty ? nil : portList, cluster: cluster,
                hidden: Set([plan.dns?.serverPod].compactMap { $0.flatMap(ObjectKey.parse) }),
                location: .start(of: "keycard probe"))
        } catch {
            throw LiveError("lab \(lab): \(error.message)")
        }
        let cells = Timeline.cells(of: probe, in: cluster, mesh: false)
        try live.requireLabProcess(needed: cells.contains { live.isServedByLabProcess($0.to, port: $0.port) })

        // The same probe runner and evidence as `keycard run`: sockets in the source pods'
        // namespaces, denials settled at once by the kernel's logged drops where it can.
        let evidence = try? SocketProbeRunner.openEvidence(plan, enforcement: live.enforcement)
        var runner = SocketProbeRunner(
            namespaces: LabServing.sourceNamespaces(plan), addresses: { [cluster] in cluster.address(of: $0) },
            programPods: LabServing.programPods(plan), evidence: evidence)
        if !cluster.services.isEmpty { runner.services = ServiceAim(cluster) }
        runner.dnsServer = LabServing.dnsServer(plan)
        let observations = try runner.observe(cells, settings: live.timeline.scenario.probeDefaults)
        let results = zip(cells, observations).map { cell, seen in cell.result(seen) }
        let engine = PolicyEngine(cluster)
        return (live, live.auditing ? results.map { AuditEvaluation.marked($0, engine: engine) } : results)
    }
}
