import ArgumentParser
import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardTopology

/// `keycard status [LAB]`: the labs on this machine, their nodes, pods, served ports and lab process.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show keycard labs: nodes, pods (node, address, namespace), served ports, lab process, enforcement."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "One lab (default: every lab).") var lab: String?
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    /// An invalid lab name is refused (exit 2), as every verb that takes one refuses it.
    func validate() throws {
        if let lab { try LabArgument.check(lab) }
    }

    func run() throws {
        logging.apply()
        let names = lab.map { [$0] } ?? Lab.labNames()
        let labs = names.map(LabStatus.init)
        if let lab, labs.first?.exists != true {
            Console.error("no lab named \(lab) on this machine")
            throw Exit.invalid
        }
        switch output {
        case .json: try Console.json(StatusDocument(labs: labs))
        case .table: Console.out(labs.isEmpty ? "no keycard lab on this machine" : labs.map(\.text).joined(separator: "\n\n"))
        }
    }
}

/// `keycard status -o json`.
struct StatusDocument: Encodable {
    var labs: [LabStatus]
}

/// One lab as `keycard status` shows it.
struct LabStatus: Encodable {
    struct Server: Encodable {
        var pid: Int32
        var alive: Bool
        var log: String
    }
    struct Node: Encodable {
        var name: String
        var netns: String
        var podCIDR: String
    }
    struct Pod: Encodable {
        var namespace: String
        var name: String
        var node: String
        var address: String
        var netns: String
        var ports: [String]
        var command: [String]?
        /// False for a pod the lab was built for but the cluster does not hold now (a later step's
        /// rollout or scale-up, a deleted pod); nil when unknown (no live record, or it no longer loads).
        var inCluster: Bool? = nil
        /// True for a pod the API server holds but the scheduler keeps Pending (its node port is
        /// taken: `NodePortsScheduler`); absent otherwise.
        var pending: Bool? = nil
    }

    var name: String
    /// creating, ready, or broken (namespaces without a state file: after a crash).
    var phase: String
    var complete: Bool
    var namespaces: Int
    var scenario: String?
    var enforcement: String?
    /// `audit` for a lab in audit mode (its rules log would-be drops and accept them); absent when enforcing.
    var mode: String?
    var liveChanges: Int?
    var server: Server?
    /// The pid of the `keycard run` or `up` still running the lab (it serves the ports while it
    /// runs); absent once it has exited.
    var owner: Int32?
    var nodes: [Node] = []
    var pods: [Pod] = []
    var externals: [Pod] = []
    /// The ports the lab process listens on (`LabServing.endpoints`): not those of `command:`
    /// programs, nor cluster DNS's.
    var servedPorts: Int = 0
    /// True when a live change stopped half-way (`LiveChangeMarker`): the kernel may hold neither
    /// the record's cluster nor the change's; absent otherwise.
    var interruptedChange: Bool? = nil
    /// The namespaces of a ready lab's plan not under /run/netns (deleted outside keycard); absent
    /// when none is missing.
    var missingNamespaces: [String]? = nil
    /// Why the live verbs refuse the lab (its input changed since it came up, its journal no
    /// longer applies...), in their words; absent when they accept it.
    var liveProblem: String? = nil
    /// What makes the lab incomplete, in words (`reasons`); absent when it is complete.
    var incomplete: String? = nil
    var exists: Bool { namespaces > 0 || phase != "absent" }

    init(_ name: String) {
        let summary = Lab.status(name)
        self.name = name
        namespaces = summary.namespaces.count
        let state = summary.state
        phase = state?.phase.rawValue ?? (summary.namespaces.isEmpty && !Lab.labNames().contains(name) ? "absent" : "broken")
        let record = try? LiveLabRecord.read(name)
        // A `keycard up` that died before it had programmed the lab left it incomplete; so did a
        // `keycard run` (without --keep) that died before tearing its lab down: only a running
        // owner, or a live record (`up`, `run --keep`), keeps a lab in use.
        complete =
            summary.isComplete && (record?.complete != false || state?.liveOwner != nil)
            && (record != nil || state?.liveOwner != nil)
        interruptedChange = LiveChangeMarker.interrupted(name) != nil ? true : nil
        // Only a ready lab misses a namespace: one still coming up has not made them all yet.
        let present = Set(summary.namespaces)
        let missing = state.flatMap { $0.phase == .ready ? $0.plan.namespaces.map(\.name).filter { !present.contains($0) } : nil } ?? []
        missingNamespaces = missing.isEmpty ? nil : missing
        if !complete {
            let reasons = Self.reasons(name, state: state, record: record, missing: missing)
            incomplete = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        }
        scenario = record?.scenario
        enforcement = record?.enforcement
        mode = record?.audit == true ? "audit" : nil
        liveChanges = record?.journal.count
        server = state?.server.map { Server(pid: $0.pid, alive: LiveLabServer.isAlive($0), log: $0.logPath) }
        owner = state?.liveOwner
        guard let plan = summary.plan else { return }
        nodes = plan.nodes.map { Node(name: $0.name, netns: $0.namespace, podCIDR: $0.slice.description) }
        pods = plan.servingPods.map {
            Pod(
                namespace: $0.namespace, name: $0.name, node: $0.nodeName, address: $0.address.description, netns: $0.netns,
                ports: $0.ports.map(Self.port), command: $0.command)
        }
        externals = plan.externals.map {
            Pod(
                namespace: "external", name: $0.name, node: "", address: $0.address.description, netns: $0.netns,
                ports: $0.ports.map(Self.port), command: nil)
        }
        // What the lab process itself listens on, as `up` counts it: not the ports of `command:`
        // programs or of cluster DNS (dnsmasq); a host-network port of one node once.
        servedPorts = LabServing.endpoints(plan).count
        // The lab holds every pod of every step; the live cluster says which exist now.
        // The live verbs refuse a lab they cannot rebuild (its input edited, its journal no longer
        // applying...): said as a warning. The pods are still marked when the cluster can be
        // built (an edited input: from the files as they are now).
        // An incomplete lab already says why it is refused.
        guard record != nil, state?.phase == .ready else { return }
        var opened: LiveLab?
        do {
            let live = try LiveLab.open(name, checkingInputs: false)
            opened = live
            try live.requireInputsUnchanged()
        } catch {
            if complete { liveProblem = LiveCommand.message("status", error) }
        }
        if let live = opened {
            for index in pods.indices {
                let key = ObjectKey(pods[index].namespace, pods[index].name)
                pods[index].inCluster = live.cluster.pods[key] != nil
                if live.cluster.pods[key] == nil && live.held.api.pods[key] != nil { pods[index].pending = true }
            }
        }
    }

    /// Why a lab is incomplete, each thing that is wrong said once: a lab whose namespace was
    /// deleted by hand under a running lab process is not one whose builder died. Without a
    /// running owner: no state (namespaces left after a crash), a bring-up that never got ready,
    /// an `up` that stopped before it had programmed the lab (its record says so), a `run`
    /// (without `--keep`) that died before tearing its lab down (no live record); and whoever
    /// runs it, each planned namespace that is missing.
    static func reasons(_ name: String, state: LabState?, record: LiveLabRecord?, missing: [String]) -> [String] {
        var reasons: [String] = []
        let owned = state?.liveOwner != nil
        if state == nil {
            reasons.append("it has no state file (\(LabPaths.stateFile(name)): left by a keycard process that is gone)")
        } else if let state, state.phase != .ready, !owned {
            reasons.append("the keycard process that was building it is gone (phase \(state.phase.rawValue))")
        }
        if !missing.isEmpty {
            let shown = missing.prefix(3).joined(separator: ", ")
            let more = missing.count > 3 ? " and \(missing.count - 3) more" : ""
            reasons.append(
                "namespace\(missing.count == 1 ? "" : "s") \(shown)\(more) \(missing.count == 1 ? "is" : "are") missing (deleted outside keycard?)"
            )
        }
        if let state, state.phase == .ready, !owned {
            if record?.complete == false {
                reasons.append("its keycard up stopped before the policies, Service proxy and lab process were in place")
            } else if record == nil {
                reasons.append("the keycard process that built it is gone")
            }
        }
        return reasons
    }

    static func port(_ port: ServedPort) -> String { "\(port.proto.rawValue.uppercased())/\(port.port)" }

    var text: String {
        var lines = [
            "lab \(name): \(phase)\(complete ? "" : " (incomplete)"), \(namespaces) namespaces"
                + (enforcement.map { ", enforcement \($0)" } ?? "") + (mode.map { " (\($0) mode: nothing enforced)" } ?? "")
                + (scenario.map { ", scenario \($0)" } ?? "")
        ]
        if let owner {
            lines.append("  run by keycard process \(owner) (still running; keycard down stops it first)")
        } else if let server {
            lines.append(
                "  lab process \(server.pid): \(server.alive ? "running" : "NOT running"), \(servedPorts) ports (log \(server.log))")
        } else {
            lines.append("  lab process: none (ports not served)")
        }
        if let incomplete {
            lines.append("  incomplete: \(incomplete); keycard down \(name) removes it")
        }
        if interruptedChange == true { lines.append("  warning: " + LiveChangeMarker.message(name)) }
        if let liveProblem { lines.append("  warning: the live verbs refuse it: " + liveProblem) }
        if let liveChanges, liveChanges > 0 { lines.append("  live changes: \(liveChanges)") }
        for node in nodes { lines.append("  node \(node.name)  \(node.podCIDR)  netns \(node.netns)") }
        let rows = (pods + externals).map { pod in
            [
                "\(pod.namespace)/\(pod.name)"
                    + (pod.pending == true ? " (Pending)" : pod.inCluster == false ? " (not in the cluster now)" : ""), pod.node,
                pod.address,
                pod.ports.joined(separator: ","), pod.netns,
            ]
        }
        let header = ["POD", "NODE", "ADDRESS", "PORTS", "NETNS"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(
                "  "
                    + row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmedRight())
        }
        return lines.joined(separator: "\n")
    }
}
