import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology

/// `keycard run` for one scenario: build the lab, serve every port, program the policies, play the
/// steps with real packets, compare with the expectations, tear down. Everything happens on the
/// calling thread: a signal is only polled (`interruption`) at safe points, after which the run
/// tears down here and throws `Interrupted`.
public final class ScenarioRun {
    public struct Options: Sendable {
        public var enforcement: Enforcement
        /// Leave the lab up afterwards (`keycard down NAME` removes it).
        public var keep = false
        /// The lab's name; the scenario's name by default.
        public var labName: String?
        /// Read the kernel's logged drops (NFLOG) so a denied probe settles at once; off, denials wait
        /// for the timeout (benchmarks compare both).
        public var dropEvidence = true

        public init(enforcement: Enforcement, keep: Bool = false, labName: String? = nil, dropEvidence: Bool = true) {
            self.enforcement = enforcement
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

    public private(set) var lab: LabInstance?
    private var server: PortServer?
    /// NFLOG listeners for the whole run (one per namespace where drops happen), released at tear-down.
    private var evidence: DropEvidence?

    public init(timeline: Timeline, options: Options) {
        self.timeline = timeline
        self.options = options
    }

    public var labName: String { options.labName ?? timeline.scenario.name }

    /// Runs every step. The lab is torn down afterwards unless `keep`, whatever happened.
    public func execute() throws -> Report {
        do {
            let report = try play()
            if !options.keep { tearDown() }
            return report
        } catch {
            tearDown()
            throw error
        }
    }

    /// Stops serving and removes the lab (idempotent) — only a lab this process brought up: a run
    /// refused because the name is taken must leave the lab that holds it alone.
    public func tearDown() {
        server?.stop()
        server = nil
        evidence = nil
        guard lab != nil || Lab.status(labName).state?.ownerPID == ProcessTable.currentPID else { return }
        _ = try? Lab.down(name: labName)
    }

    private func stopIfInterrupted() throws {
        if let signal = interruption() { throw Interrupted(signal: signal) }
    }

    private func play() throws -> Report {
        let scenario = timeline.scenario
        progress("lab \(labName): building \(timeline.plan.addresses.count) pods on \(scenario.lab.nodes) node(s)")
        let lab = try Lab.up(spec: LabSpec(timeline, labName: labName))
        self.lab = lab
        try stopIfInterrupted()
        server = try PortServer(endpoints: LabServing.endpoints(lab.plan))
        try ProgramReadiness.await(lab.plan, progress: progress)
        let policies = LabPolicies(plan: lab.plan, nodes: timeline.plan.nodes, enforcement: options.enforcement)
        try stopIfInterrupted()
        try policies.program(timeline.initial)
        do {
            if options.dropEvidence { evidence = try SocketProbeRunner.openEvidence(lab.plan, enforcement: options.enforcement) }
        } catch {
            // Without the kernel's word, denials still show, after the timeout.
            progress("no drop evidence (\(error)): denials wait for the timeout")
        }

        let podNamespaces = LabServing.podNamespaces(lab.plan)
        var steps: [StepReport] = []
        for step in scenario.steps {
            try stopIfInterrupted()
            let cluster = timeline.cluster(afterStep: step.index)
            let runner = SocketProbeRunner(
                namespaces: podNamespaces, addresses: { [cluster] in cluster.address(of: $0) },
                programPods: LabServing.programPods(lab.plan), evidence: evidence)
            progress("step \(step.index)/\(scenario.steps.count) \(step.kind)\(step.name.map { ": \($0)" } ?? "")")
            switch step.action {
            case .apply, .delete, .label:
                let changed = try policies.program(cluster)
                steps.append(
                    StepReport(
                        index: step.index, name: step.name, kind: step.kind, passed: true,
                        summary: "\(changed) namespace\(changed == 1 ? "" : "s") reprogrammed"))
            case .probe:
                steps.append(try StepEvaluation.probe(step, timeline: timeline, runner: runner))
            case .scan(let scan):
                steps.append(try StepEvaluation.scan(step, scan, timeline: timeline, runner: runner))
            }
        }
        // A signal during the last step still ends the run as interrupted.
        try stopIfInterrupted()
        return Report(
            scenario: scenario.name, enforcement: options.enforcement,
            passed: steps.allSatisfy(\.passed), steps: steps)
    }
}
