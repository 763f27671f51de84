import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology
import Logging

/// `keycard run` for one scenario: build the lab, serve every port, program the policies, play the
/// steps with real packets, compare with the expectations, tear down. Everything happens on the
/// calling thread: a signal is only polled (`interruption`) at safe points, after which the run
/// tears down here and throws `Interrupted`.
public final class ScenarioRun {
    /// How `keycard run` builds and drives the lab: placement, lifetime, name and evidence.
    public struct Options: Sendable {
        public var enforcement: Enforcement
        /// Leave the lab up afterwards (`keycard down NAME` removes it).
        public var keep = false
        /// The lab's name; the scenario's name by default.
        public var labName: String?
        /// Read the kernel's logged drops (NFLOG) so a denied probe settles at once; off, denials wait
        /// for the timeout (benchmarks compare both).
        public var dropEvidence = true
        /// Leave the lab up after a run that ended normally, for the next scenario to take over
        /// (`ScenarioRun.next(after:)`); whoever holds it last tears it down.
        public var handOff = false
        /// Audit mode for the whole lab, whatever `spec.lab.mode` says (`keycard run --audit`).
        public var audit = false

        public init(
            enforcement: Enforcement, keep: Bool = false, labName: String? = nil, dropEvidence: Bool = true,
            handOff: Bool = false
        ) {
            self.enforcement = enforcement
            self.handOff = handOff
            self.keep = keep
            self.labName = labName
            self.dropEvidence = dropEvidence
        }
    }

    public let timeline: Timeline
    public let options: Options
    /// Called with a line of progress ("step 2/5 probe: 120/324").
    public var progress: (String) -> Void = { _ in }
    /// Polled between stages and steps: a signal number stops the run there (see `SignalTrap`).
    public var interruption: () -> Int32? = { nil }
    /// Called with each step's report as soon as the step ends (a flow log writes it out then).
    public var stepFinished: (StepReport) -> Void = { _ in }
    /// Set: the kernel's connections are watched (`TrafficWatch`), and those keycard's prober did
    /// not make (a `command:` program's) are handed to it as they were made while the cluster stood
    /// as after step `index` (0: the resources; read before each step changes anything, and after
    /// the last), with that step's name.
    public var trafficSeen: ((_ index: Int, _ stepName: String?, [ObservedTraffic]) -> Void)?
    private var traffic: TrafficWatch?

    public private(set) var lab: LabInstance?
    private var server: PortServer?
    /// NFLOG listeners for the whole run (one per namespace where drops happen), released at tear-down.
    private var evidence: DropEvidence?
    private var policies: LabPolicies?
    private var services: LabServices?
    /// The mesh data plane (CA, proxy, captures), when the scenario uses the mesh.
    private var mesh: LabMesh?
    /// The lab this run needs (named `labName`).
    public let spec: LabSpec
    /// True when the lab was taken over from the scenario before (not built again).
    public private(set) var reused = false

    public init(timeline: Timeline, options: Options) {
        self.timeline = timeline
        self.options = options
        spec = LabSpec(timeline, labName: options.labName ?? timeline.scenario.name)
    }

    public var labName: String { spec.labName }

    /// Audit mode: `--audit` or `spec.lab.mode: audit`.
    public var auditing: Bool { options.audit || timeline.scenario.lab.mode == .audit }

    /// The run of `timeline` after `previous` (which ended and handed its lab off): when both need
    /// the same lab (same pods, addresses, nodes, ports, commands and externals; only the name may
    /// differ) and the same enforcement, the new run takes the lab over, serving and listening as
    /// it is, and only reprograms the policies; otherwise `previous`'s lab is torn down first.
    public static func next(after previous: ScenarioRun?, timeline: Timeline, options: Options) -> ScenarioRun {
        guard let previous else { return ScenarioRun(timeline: timeline, options: options) }
        var inherited = options
        inherited.labName = previous.labName
        let candidate = ScenarioRun(timeline: timeline, options: inherited)
        if candidate.spec == previous.spec, options.enforcement == previous.options.enforcement,
            options.dropEvidence == previous.options.dropEvidence, let lab = previous.lab, previous.server != nil,
            // A lab with the mesh serves client-first and carries its proxy: never handed over.
            !timeline.usesMesh, !previous.timeline.usesMesh,
            let policies = previous.policies,
            timeline.scenario.lab.serviceEnforcement == previous.timeline.scenario.lab.serviceEnforcement,
            candidate.auditing == previous.auditing,
            // The tier layout is the compiler's (`PolicyCompiler.tiers`): the same on both sides.
            timeline.usesClusterPolicies == previous.timeline.usesClusterPolicies
        {
            candidate.lab = lab
            candidate.server = previous.server
            candidate.evidence = previous.evidence
            candidate.policies = policies
            candidate.services = previous.services
            candidate.reused = true
            previous.lab = nil
            previous.server = nil
            previous.evidence = nil
            previous.policies = nil
            previous.services = nil
            previous.traffic = nil
            return candidate
        }
        previous.tearDown()
        return ScenarioRun(timeline: timeline, options: options)
    }

    /// Runs every step. The lab is torn down afterwards unless `keep`, whatever happened.
    public func execute() throws -> Report {
        do {
            let report = try play()
            if !options.keep && !options.handOff { tearDown() }
            return report
        } catch {
            tearDown()
            throw error
        }
    }

    /// Stops serving and removes the lab (idempotent) — only a lab this process brought up: a run
    /// refused because the name is taken must leave the lab that holds it alone. Returns whether
    /// the lab was this run's (and so is removed now).
    @discardableResult
    public func tearDown() -> Bool {
        mesh?.tearDown()
        mesh = nil
        server?.stop()
        server = nil
        traffic = nil
        evidence = nil
        policies = nil
        services = nil
        guard lab != nil else { return Lab.downIfOwned(labName) }
        _ = try? Lab.down(name: labName)
        return true
    }

    private let logger = Logger(label: "keycard.run")

    private func stopIfInterrupted() throws {
        if let signal = interruption() { throw Interrupted(signal: signal) }
    }

    /// Gives the cluster DNS server the records of `cluster` (no-op without DNS).
    private func refreshDNS(_ lab: LabInstance, _ cluster: Cluster) throws { try LabStartup.refreshDNS(lab, cluster) }

    /// Hands the connections seen since the last call (the prober's left out) to `trafficSeen`.
    private func handTraffic(afterStep index: Int) throws {
        guard let watch = traffic, let trafficSeen else { return }
        let seen = try watch.collect().filter { $0.prober != true }
        watch.stepEnded()
        let name = timeline.scenario.steps.first { $0.index == index }?.name
        if !seen.isEmpty { trafficSeen(index, name, seen) }
    }

    private func play() throws -> Report {
        let scenario = timeline.scenario
        let lab: LabInstance
        let policies: LabPolicies
        if reused, let kept = self.lab, let keptPolicies = self.policies {
            // The same lab as the scenario before: reprogram for this scenario's start and forget
            // every connection the previous one left tracked.
            progress("lab \(labName): reused for \(scenario.name)")
            logger.info("lab reused", metadata: ["lab": "\(labName)", "scenario": "\(scenario.name)"])
            lab = kept
            policies = keptPolicies
            try stopIfInterrupted()
            try policies.program(timeline.initial)
            try services?.program(timeline.initial)
            try policies.flushConntrack()
            try refreshDNS(lab, timeline.initial)
        } else {
            progress("lab \(labName): building \(timeline.plan.addresses.count) pods on \(scenario.lab.nodes) node(s)")
            logger.info("lab built", metadata: ["lab": "\(labName)", "scenario": "\(scenario.name)"])
            // Cluster DNS and the Service proxy are ready before the programs start.
            let services: LabServices
            (lab, services) = try LabStartup.up(spec: spec, cluster: timeline.initial, enforcement: options.enforcement)
            self.lab = lab
            self.services = services
            try stopIfInterrupted()
            server = try PortServer(endpoints: LabServing.endpoints(lab.plan), clientFirst: timeline.usesMesh)
            try ProgramReadiness.await(lab.plan, progress: progress)
            policies = LabPolicies(
                plan: lab.plan, nodes: timeline.plan.podNamespaceNodes, enforcement: options.enforcement, fresh: true,
                serviceEnforcement: scenario.lab.serviceEnforcement,
                meshLayout: LabMeshRedirect.needsMeshLayout(timeline), audit: auditing,
                tiers: timeline.usesClusterPolicies)
            self.policies = policies
            try stopIfInterrupted()
            try policies.program(timeline.initial)
            if timeline.usesMesh {
                progress("lab \(labName): mesh proxy and lab CA")
                let mesh = try LabMesh(
                    lab: lab, timeline: timeline, connectTimeout: MeshProbing.proxyConnectTimeout(scenario.probeDefaults))
                self.mesh = mesh
                try mesh.program(timeline.initial)
            }
            do {
                if options.dropEvidence { evidence = try SocketProbeRunner.openEvidence(lab.plan, enforcement: options.enforcement) }
            } catch {
                // Without the kernel's word, denials still show, after the timeout.
                progress("no drop evidence (\(error)): denials wait for the timeout")
            }
        }

        if trafficSeen != nil {
            do {
                traffic = try TrafficWatch(plan: lab.plan, enforcement: options.enforcement, evidence: evidence)
            } catch {
                progress("no traffic watch (\(error)): the flow log holds keycard's probes only")
            }
        }
        let podNamespaces = LabServing.sourceNamespaces(lab.plan)
        // The DNS query is built once for the run, not at every step.
        let dnsServer = LabServing.dnsServer(lab.plan)
        var steps: [StepReport] = []
        for step in scenario.steps {
            try stopIfInterrupted()
            try handTraffic(afterStep: step.index - 1)
            let cluster = timeline.cluster(afterStep: step.index)
            var runner = SocketProbeRunner(
                namespaces: podNamespaces, addresses: { [cluster] in cluster.address(of: $0) },
                programPods: LabServing.programPods(lab.plan), evidence: evidence)
            if !cluster.services.isEmpty { runner.services = ServiceAim(cluster) }
            runner.dnsServer = dnsServer
            runner.mesh = mesh?.probing(cluster)
            progress("step \(step.index)/\(scenario.steps.count) \(step.kind)\(step.name.map { ": \($0)" } ?? "")")
            switch step.action {
            case .apply, .delete, .label, .scale:
                let changed = try policies.program(cluster)
                try services?.program(cluster)
                let captures = try mesh?.program(cluster).count ?? 0
                try refreshDNS(lab, cluster)
                var summary = "\(changed) namespace\(changed == 1 ? "" : "s") reprogrammed"
                if captures > 0 { summary += "; the mesh's capture changed in \(captures) pod\(captures == 1 ? "" : "s")" }
                if let exposure = timeline.exposureSummary(ofStep: step.index) { summary += "; " + exposure }
                steps.append(StepReport(step, passed: true, summary: summary))
            case .rotate(let rotation):
                try mesh?.rotate(rotation)
                steps.append(
                    StepReport(
                        step, passed: true,
                        summary: "\(rotation.description) rotated: new certificates from here on"))
            case .probe:
                mesh?.forgetConnections()
                steps.append(try StepEvaluation.probe(step, timeline: timeline, runner: runner))
            case .scan(let scan):
                mesh?.forgetConnections()
                steps.append(try StepEvaluation.scan(step, scan, timeline: timeline, runner: runner))
            case .dns(let dns):
                let probe = DNSProbe(namespaces: podNamespaces)
                let settings = scenario.probeDefaults
                steps.append(
                    try StepEvaluation.dns(step, dns, timeline: timeline) {
                        try probe.query(
                            $0, server: $1, resolvConf: timeline.resolvConf(of: $0.from, atStep: step.index), settings: settings)
                    })
            }
            if auditing, let last = steps.popLast() { steps.append(AuditEvaluation.judge(last, cluster: cluster)) }
            if let last = steps.popLast() { steps.append(StagedEvaluation.judge(last, cluster: cluster)) }
            if let last = steps.last { stepFinished(last) }
        }
        try handTraffic(afterStep: scenario.steps.count)
        // A signal during the last step still ends the run as interrupted.
        try stopIfInterrupted()
        return Report(timeline, enforcement: options.enforcement, steps: steps)
    }
}
