import ArgumentParser
import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTopology

/// `keycard up FILE` (or manifests: `keycard up DIR...`): build the scenario's lab, program its initial policies and Services, start the lab process
/// that serves its ports, and leave it running.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract:
            "Bring a scenario's lab up at its resources (before its steps; run --keep keeps the state after them) and leave it running (as root); keycard down NAME removes it."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(
        help:
            "The scenario file (its metadata.name names the lab), or plain manifests: files or folders, brought up together as one lab (named after the first)."
    )
    var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(help: "pod or node; overrides spec.lab.enforcement.") var enforcement: Enforcement?

    func run() throws {
        logging.apply()
        let timeline = try ScenarioInput.loadOne(files, manifests, for: "keycard up")
        let file = files.first ?? ""
        // What the files held when read: the lab is built from this, not from a later edit.
        let inputs = LiveInputDigests.of(timeline.scenario.inputFiles)
        let isManifests = ManifestLoader.isManifests(file)
        if ([timeline.initial] + timeline.states).contains(where: \.hasMeshedPods) {
            Console.error("\(file): keycard up does not run the mesh's proxy yet: use keycard run (or keycard model)")
            throw Exit.invalid
        }
        try Environment.requireRoot()
        let scenario = timeline.scenario
        let lab = scenario.name
        let mode = enforcement ?? scenario.lab.enforcement
        let clock = ContinuousClock()
        let start = clock.now
        // An interrupted bring-up leaves nothing behind: the signal is recorded, and checked after
        // each stage on this thread, which then tears the lab down.
        let trap = SignalTrap()
        defer { trap.remove() }
        func stopIfInterrupted() throws {
            guard let signal = trap.received else { return }
            Console.error("interrupted: tearing down lab \(lab)")
            _ = try? Lab.down(name: lab)
            throw ExitCode(128 + signal)
        }
        let instance: LabInstance
        do {
            // Cluster DNS and the Service proxy are ready before the programs start.
            (instance, _) = try LabStartup.up(spec: LabSpec(timeline), cluster: timeline.initial, enforcement: mode)
        } catch {
            // Nothing of this command's is left (Lab.up removes what it built), and a name in use
            // is another's lab: a signal now tears nothing down.
            if let signal = trap.received, !Self.isNameInUse(error) {
                Console.error("interrupted: lab \(lab) was not brought up (\(error))")
                throw ExitCode(128 + signal)
            }
            Console.error("keycard up: \(error)")
            throw Exit.invalid
        }
        try stopIfInterrupted()
        let pid: pid_t
        let programmed: Int
        do {
            var record = LiveLabRecord(labName: lab, scenario: LiveInput.absolute(file), enforcement: mode.rawValue, baseStep: 0)
            if isManifests { (record.manifests, record.namespace) = (files.map(LiveInput.absolute), manifests.namespace) }
            record.inputs = inputs
            // `spec.lab.mode: audit`: the lab logs would-be drops and enforces nothing, as `run` does.
            let audit = scenario.lab.mode == .audit
            record.audit = audit ? true : nil
            record.complete = false
            try record.write()
            programmed = try LabPolicies(
                plan: instance.plan, nodes: timeline.plan.podNamespaceNodes, enforcement: mode, fresh: true,
                serviceEnforcement: scenario.lab.serviceEnforcement, audit: audit
            ).program(
                timeline.initial)
            try stopIfInterrupted()
            pid = try LabDaemon.startServer(lab: lab)
            try ProgramReadiness.await(instance.plan) { Console.error($0) }
            try stopIfInterrupted()
            record.complete = nil
            try record.write()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error("keycard up: lab \(lab): \(error); tearing it down")
            _ = try? Lab.down(name: lab)
            throw Exit.invalid
        }
        let plan = instance.plan
        let served = LabServing.endpoints(plan).count
        Console.out(
            """
            lab \(lab) is up (\(String(format: "%.2f", (clock.now - start).seconds)) s): \(timeline.initial.pods.count) of \(plan.servingPods.count) pods present, \
            \(plan.nodes.count) node\(plan.nodes.count == 1 ? "" : "s"), \(plan.externals.count) external\(plan.externals.count == 1 ? "" : "s")
              enforcement \(mode.rawValue): \(programmed) namespace\(programmed == 1 ? "" : "s") programmed with table kc-\(lab)
              lab process \(pid) serves \(served) port\(served == 1 ? "" : "s") (log: \(LiveLabServer.logPath(lab)))
              next: keycard status \(lab) | keycard probe \(lab) | keycard down \(lab)
            """)
    }

    /// Whether `error` is the refusal of a lab name another lab holds.
    static func isNameInUse(_ error: Error) -> Bool {
        if case .nameInUse = error as? LabError { return true }
        return false
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
