import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues

/// `keycard generate --prove`: the scenario's pods (as they stand after its last step) with the
/// generated policies in place of its own, probed with real packets from every pod to every other
/// pod on every port the destination declares, and on every port an observed flow used. Each cell
/// must be allowed exactly when it was observed, and the model of the generated policies must agree.
public enum GeneratedPolicyProof {
    /// The cluster to prove: the timeline's last state, its NetworkPolicies (and staged ones)
    /// replaced by `generated`.
    public static func cluster(_ timeline: Timeline, generated: [NetworkPolicy]) -> Cluster {
        PolicyGenerator(timeline).applying(generated)
    }

    /// Every ordered pair of distinct pods on every port the destination declares, expected allowed
    /// exactly when observed (or observed between pods no label tells apart from these:
    /// `PolicyGenerator.intends`), judged by the model of `cluster`. A pair whose ends both have no
    /// policy of their own (host-network pods, the cluster DNS pod: `PolicyGenerator.isSubject`)
    /// is left out: no generated policy could deny it. Then every observed flow that is no cell
    /// yet, expected allowed: one to a port its pod does not declare (a Service's `targetPort`:
    /// applications listen without declaring, and the proof's lab serves every target port a
    /// Service sends a pod, as the run's did: `LabSpec(_:labName:)`, `Timeline.serviceTargetPorts`),
    /// or one between two pods without a policy of their own. A flow whose pod is gone by the
    /// last step gets no cell (`coverage` counts it).
    ///
    /// Ends outside the pod network, which the policies name by `ipBlock`: every external
    /// (`spec.externals`) to every port of every pod a generated policy selects, and every such pod
    /// to every port of every external; every lab node that an observed flow comes from to every
    /// port of those pods (its own pods admit it by the local-node rule: `PolicyGenerator.intends`).
    /// A flow to a node's address gets no cell: a node is a probe source only (nothing of the lab
    /// serves on a node's address but a host-network pod, which a flow names as the pod).
    /// `generator` is the generator of the policies, over the same pods.
    public static func cells(_ cluster: Cluster, observed: Set<ObservedFlow>, generator: PolicyGenerator) -> [ProbeCell] {
        let engine = PolicyEngine(cluster)
        let intended = generator.intends(observed)
        var cells: [ProbeCell] = []
        var present: Set<ObservedFlow> = []
        func cell(_ flow: ObservedFlow) -> ProbeCell {
            let to = cluster.source(flow.to)
            return ProbeCell(
                from: flow.from, to: to, port: flow.port, expected: .explicit(intended(flow) ? .allow : .deny),
                verdict: engine.evaluate(fromSource: flow.from, to: to, port: flow.port))
        }
        func add(_ flow: ObservedFlow) {
            if present.insert(flow).inserted { cells.append(cell(flow)) }
        }
        func sorted(_ ports: [ProtocolPort]) -> [ProtocolPort] {
            Set(ports).sorted { ($0.proto.rawValue, $0.port) < ($1.proto.rawValue, $1.port) }
        }
        let externals = cluster.externals.values.sorted { $0.name < $1.name }
        let nodes = Set(observed.map(\.from).filter { if case .node = cluster.source($0) { true } else { false } }).sorted()
        for destination in cluster.sortedPods {
            for port in sorted(destination.ports.map { ProtocolPort($0.proto, $0.port) }) {
                for source in cluster.sortedPods
                where source.key != destination.key && (generator.isSubject(source.key) || generator.isSubject(destination.key)) {
                    add(ObservedFlow(from: source.key, to: destination.key, port: port))
                }
                guard generator.isSubject(destination.key) else { continue }
                for source in externals.map({ ObjectKey.external($0.name) }) + nodes {
                    add(ObservedFlow(from: source, to: destination.key, port: port))
                }
            }
        }
        for source in cluster.sortedPods where generator.isSubject(source.key) {
            for external in externals {
                for port in sorted(external.ports) { add(ObservedFlow(from: source.key, to: .external(external.name), port: port)) }
            }
        }
        for flow in observed.sorted() where cluster.hasSource(flow.from) && cluster.hasSource(flow.to) {
            if case .node = cluster.source(flow.to) { continue }
            add(flow)
        }
        return cells
    }

    /// How a proof's results cover the observed flows: each one's cell passed with packets
    /// (`proven`), was judged by the model alone (`modelOnly`), failed, or has no cell
    /// (`unprobed`: a pod of it is gone by the scenario's last step). The summary claims every
    /// observed flow passes only when each is proven.
    public struct Coverage: Equatable, Sendable {
        public var observed = 0
        public var proven = 0
        public var modelOnly = 0
        public var failed = 0
        public var unprobed = 0

        public init(observed: Int = 0, proven: Int = 0, modelOnly: Int = 0, failed: Int = 0, unprobed: Int = 0) {
            self.observed = observed
            self.proven = proven
            self.modelOnly = modelOnly
            self.failed = failed
            self.unprobed = unprobed
        }

        /// Every observed flow was sent as packets and passed.
        public var complete: Bool { proven == observed }
    }

    /// The coverage of `observed` by `results` (`Coverage`).
    public static func coverage(_ observed: Set<ObservedFlow>, _ results: [ProbeResult]) -> Coverage {
        var byFlow: [ObservedFlow: ProbeResult] = [:]
        for result in results {
            guard let to = result.to.sourceKey else { continue }
            byFlow[ObservedFlow(from: result.from, to: to, port: result.port)] = result
        }
        var coverage = Coverage(observed: observed.count)
        for flow in observed {
            guard let result = byFlow[flow] else {
                coverage.unprobed += 1
                continue
            }
            if result.observed == .skipped || result.observed == nil {
                coverage.modelOnly += 1
            } else if result.passed {
                coverage.proven += 1
            } else {
                coverage.failed += 1
            }
        }
        return coverage
    }

    /// The proof's summary line: cells allowed, denied and judged by the model only, the observed
    /// flows proven with packets among them, and the verdict. "Every observed flow passes" only
    /// when every observed flow was sent as packets and passed; otherwise how many were not sent,
    /// and why.
    /// `generator` made the policies: it tells a cell its pod's own node opens.
    public static func summary(_ results: [ProbeResult], observed: Set<ObservedFlow>, generator: PolicyGenerator) -> String {
        let failed = results.filter { !$0.passed }
        let allowed = results.filter { $0.observed?.networkDecision == .allow }.count
        let skipped = results.filter { $0.observed == .skipped }.count
        let coverage = Self.coverage(observed, results)
        let allowedObserved = results.filter { result in
            guard result.observed?.networkDecision == .allow, let to = result.to.sourceKey else { return false }
            return observed.contains(ObservedFlow(from: result.from, to: to, port: result.port))
        }.count
        // Cells expected open without being observed: from a pod's own node (the local-node rule),
        // else between pods no stable label tells apart.
        let unobserved = results.compactMap { result -> ObservedFlow? in
            guard result.expected == .allow, let to = result.to.sourceKey else { return nil }
            let flow = ObservedFlow(from: result.from, to: to, port: result.port)
            return observed.contains(flow) ? nil : flow
        }
        let local = unobserved.filter(generator.localNodeAdmits).count
        let alike = unobserved.count - local
        func flows(_ count: Int) -> String { counted(count, "observed flow") }
        var line =
            "proof: \(counted(results.count, "cell")), \(allowed) allowed (\(flows(allowedObserved))"
            + (alike > 0 ? ", and \(counted(alike, "cell")) between pods no stable label tells apart from theirs" : "")
            + (local > 0 ? ", and \(local) from a pod's own node (the local-node rule)" : "")
            + "), \(results.count - allowed - skipped) denied" + (skipped > 0 ? ", \(skipped) judged by the model only" : "")
        guard failed.isEmpty else { return line }
        if coverage.complete { return line + ": every observed flow passes, the rest is denied" }
        var unsent: [String] = []
        if coverage.modelOnly > 0 { unsent.append("\(coverage.modelOnly) judged by the model only (a real program's UDP port)") }
        if coverage.unprobed > 0 { unsent.append("\(coverage.unprobed) not probed (a pod of it is gone by the last step)") }
        line +=
            ": \(coverage.proven) of \(flows(coverage.observed)) pass with packets, the other cells are denied; "
            + "\(unsent.joined(separator: ", ")): not proven with packets"
        return line
    }

    /// Builds a lab named `labName` in `LabStartup`'s order (cluster DNS and `cluster`'s Service
    /// proxy before the programs), programs `cluster`'s policies, probes `cells`, tears it down.
    /// A UDP port a real program serves answers only its own protocol: those cells are skipped
    /// and judged by the model alone; with `queryDNS`, but for the cluster DNS server's port 53,
    /// which a DNS query probes as the run does (`LabServing.dnsServer`; its dnsmasq answers any
    /// name, NXDOMAIN where it holds no record, `ClusterDNSServer.config`): `generate --prove`
    /// sends every observed DNS flow so.
    /// `interruption` is polled between stages (building, serving, programming, probing): a
    /// signal it reports throws `Interrupted` there, after the lab is torn down.
    public static func run(
        _ timeline: Timeline, cluster: Cluster, cells: [ProbeCell], enforcement: Enforcement, labName: String, queryDNS: Bool = false,
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
        // As `run` and `up` bring a lab up: a program that looks a Service up at its start finds it.
        let (lab, _) = try LabStartup.up(spec: spec, cluster: cluster, enforcement: enforcement)
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
        var runner = SocketProbeRunner(
            namespaces: LabServing.sourceNamespaces(lab.plan), addresses: { [cluster] in cluster.address(of: $0) }, programPods: programs,
            evidence: evidence)
        if queryDNS { runner.dnsServer = LabServing.dnsServer(lab.plan) }
        let dns = runner.dnsServer?.pod
        let probed = cells.filter { !Self.modelOnly($0, programs, dns: dns) }
        progress("probing \(counted(probed.count, "cell"))")
        var seen = try runner.observe(probed, settings: timeline.scenario.probeDefaults).makeIterator()
        try stopIfInterrupted()
        return cells.map { cell in
            if Self.modelOnly(cell, programs, dns: dns) {
                return cell.result(observed: .skipped, attempts: 0, reason: "a real program's UDP port: judged by the model")
            }
            let observation = seen.next() ?? CellObservation(observation: .skipped, attempts: 0)
            return cell.result(observation)
        }
    }

    /// Whether a cell is judged by the model alone: a UDP or SCTP port of a pod a real program
    /// serves, but UDP/53 of the cluster DNS server `dns`, which a DNS query probes.
    static func modelOnly(_ cell: ProbeCell, _ programs: Set<ObjectKey>, dns: ObjectKey? = nil) -> Bool {
        guard cell.port.proto != .tcp, case .pod(let key) = cell.to else { return false }
        if key == dns && cell.port == ProtocolPort(.udp, 53) { return false }
        return programs.contains(key)
    }
}
