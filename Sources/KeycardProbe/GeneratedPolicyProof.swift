import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues

/// `keycard generate --prove`: the scenario's pods (as they stand after its last step) with the
/// generated policies in place of its own, probed with real packets from every pod to every other
/// pod on every port the destination declares. Each cell must be allowed exactly when it was
/// observed, and the model of the generated policies must agree.
public enum GeneratedPolicyProof {
    /// The cluster to prove: the timeline's last state, its NetworkPolicies (and staged ones)
    /// replaced by `generated`.
    public static func cluster(_ timeline: Timeline, generated: [NetworkPolicy]) -> Cluster {
        var cluster = timeline.cluster(afterStep: timeline.scenario.steps.count)
        cluster.policies = Dictionary(uniqueKeysWithValues: generated.map { ($0.key, $0) })
        cluster.stagedPolicies = [:]
        return cluster
    }

    /// Every ordered pair of distinct pods on every port the destination declares, expected allowed
    /// exactly when observed (or observed between pods no label tells apart from these:
    /// `PolicyGenerator.intends`), judged by the model of `cluster`. A pair whose ends both have no
    /// policy of their own (host-network pods, the cluster DNS pod: `PolicyGenerator.isSubject`)
    /// is left out: no generated policy could deny it.
    public static func cells(_ cluster: Cluster, observed: Set<ObservedFlow>) -> [ProbeCell] {
        let engine = PolicyEngine(cluster)
        let generator = PolicyGenerator(cluster)
        let intended = generator.intends(observed)
        var cells: [ProbeCell] = []
        for destination in cluster.sortedPods {
            for port in Set(destination.ports.map { ProtocolPort($0.proto, $0.port) }).sorted(by: {
                ($0.proto.rawValue, $0.port) < ($1.proto.rawValue, $1.port)
            }) {
                for source in cluster.sortedPods
                where source.key != destination.key && (generator.isSubject(source.key) || generator.isSubject(destination.key)) {
                    let flow = ObservedFlow(from: source.key, to: destination.key, port: port)
                    cells.append(
                        ProbeCell(
                            from: source.key, to: .pod(destination.key), port: port,
                            expected: .explicit(intended(flow) ? .allow : .deny),
                            verdict: engine.evaluate(from: .pod(source.key), to: .pod(destination.key), port: port)))
                }
            }
        }
        return cells
    }

    /// Builds a lab named `labName`, programs `cluster`'s policies, probes `cells`, tears it down.
    /// A UDP port a real program serves (a DNS server) answers only its own protocol: those cells
    /// are skipped and judged by the model alone.
    /// `interruption` is polled between stages (building, serving, programming, probing): a
    /// signal it reports throws `Interrupted` there, after the lab is torn down.
    public static func run(
        _ timeline: Timeline, cluster: Cluster, cells: [ProbeCell], enforcement: Enforcement, labName: String,
        progress: (String) -> Void = { _ in }, interruption: () -> Int32? = { nil }
    ) throws -> [ProbeResult] {
        func stopIfInterrupted() throws { if let signal = interruption() { throw Interrupted(signal: signal) } }
        let spec = LabSpec(timeline, labName: labName)
        progress("lab \(labName): building \(timeline.plan.addresses.count) pods to prove the generated policies")
        var server: PortServer?
        defer {
            server?.stop()
            _ = try? Lab.down(name: labName)
        }
        let lab = try Lab.up(spec: spec)
        try stopIfInterrupted()
        server = try PortServer(endpoints: LabServing.endpoints(lab.plan))
        try ProgramReadiness.await(lab.plan, progress: progress)
        try stopIfInterrupted()
        let policies = LabPolicies(
            plan: lab.plan, nodes: timeline.plan.podNamespaceNodes, enforcement: enforcement, fresh: true,
            serviceEnforcement: timeline.scenario.lab.serviceEnforcement)
        try policies.program(cluster)
        try stopIfInterrupted()
        let evidence = try? SocketProbeRunner.openEvidence(lab.plan, enforcement: enforcement)
        let programs = LabServing.programPods(lab.plan)
        let runner = SocketProbeRunner(
            namespaces: LabServing.sourceNamespaces(lab.plan), addresses: { [cluster] in cluster.address(of: $0) }, programPods: programs,
            evidence: evidence)
        let probed = cells.filter { !Self.modelOnly($0, programs) }
        progress("probing \(probed.count) cells")
        var seen = try runner.observe(probed, settings: timeline.scenario.probeDefaults).makeIterator()
        try stopIfInterrupted()
        return cells.map { cell in
            if Self.modelOnly(cell, programs) {
                return cell.result(observed: .skipped, attempts: 0, reason: "a real program's UDP port: judged by the model")
            }
            let observation = seen.next() ?? CellObservation(observation: .skipped, attempts: 0)
            return cell.result(observation)
        }
    }

    static func modelOnly(_ cell: ProbeCell, _ programs: Set<ObjectKey>) -> Bool {
        guard cell.port.proto != .tcp, case .pod(let key) = cell.to else { return false }
        return programs.contains(key)
    }
}
