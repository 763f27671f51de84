import ArgumentParser
import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario

/// `keycard observe LAB`: follows a live lab's new connections, whoever makes them (`keycard
/// probe`, `command:` programs), from now on, and prints each as a Hubble flow (JSON lines,
/// docs/flows.md) until SIGINT or SIGTERM, then writes what the kernel logged before the signal
/// and exits 0. The kernel's word comes from
/// `TrafficWatch` (conntrack NEW events for forwarded connections, the default-deny rules' NFLOG
/// records for drops); policies are attributed from the cluster the lab holds at that moment
/// (changes made by `keycard apply` while observing are picked up: the lab's record is re-read).
/// Observe adds no rule to the lab; its sockets close when it ends.
struct ObserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Follow a live lab's new connections as Hubble flows (JSON lines) on stdout until interrupted (as root)."
    )

    @OptionGroup var options: LabOptions
    var lab: String { options.lab }
    @Option(help: "Only flows with an end (source or destination) in this Kubernetes namespace[,...].") var namespace: [String] = []
    @Option(help: "Only flows with this pod (ns/name[,...]) at an end.") var pod: [String] = []
    @Option(help: "Only flows with this verdict (FORWARDED, DROPPED or AUDIT[,...]).") var verdict: [String] = []
    @Option(name: .shortAndLong, help: "json (Hubble's GetFlowsResponse, one per line) or compact (one line of text per flow).")
    var output: ObserveFormat = .json

    func run() throws {
        options.logging.apply()
        try Environment.requireRoot()
        let (verdicts, namespaces, pods) = try LiveCommand.run("observe") {
            let verdicts = try Set(
                LiveInput.list(verdict, option: "--verdict").map { text -> String in
                    let upper = text.uppercased()
                    guard ["FORWARDED", "DROPPED", "AUDIT"].contains(upper) else {
                        throw LiveError("--verdict \(text): FORWARDED, DROPPED or AUDIT")
                    }
                    return upper
                })
            return (verdicts, try Set(LiveInput.list(namespace, option: "--namespace")), try Set(LiveInput.list(pod, option: "--pod")))
        }
        for text in pods.sorted() where ObjectKey.parse(text) == nil {
            Console.error("--pod \(text): write namespace/name")
            throw Exit.invalid
        }
        let trap = SignalTrap()
        defer { trap.remove() }
        var live = try LiveCommand.run("observe") {
            try LiveLab.requireSettled(lab, locked: false)
            return try LiveLab.open(lab)
        }
        // Registered before any socket opens in the lab's namespaces: `keycard down` finds this
        // process by its file, whatever its command line (`Lab.observers`), and stops it before
        // it deletes the namespaces these sockets would keep alive.
        let registration = try LiveCommand.run("observe") { try LabObserver.register(lab: lab) }
        defer { LabObserver.unregister(registration) }
        for text in pods.sorted() where ObjectKey.parse(text).map({ live.cluster.pods[$0] == nil }) ?? false {
            // Only a warning: a later `keycard apply` may create it.
            Console.error("warning: lab \(lab) holds no pod \(text) now; its flows show once it exists")
        }
        let watch = try LiveCommand.run("observe") { try TrafficWatch(plan: live.state.plan, enforcement: live.enforcement) }
        if !watch.blindNamespaces.isEmpty {
            Console.error(
                "lab \(lab): another process reads the drop log in \(watch.blindNamespaces.count) namespace(s); their drops show once it ends"
            )
        }
        Console.error("lab \(lab): observing new flows (Ctrl-C to stop)")
        let labNamespaces = live.state.plan.namespaces.map(\.name)
        while true {
            // After a signal, one more collection: what the kernel logged before it is written.
            let last = trap.received != nil
            if !last {
                _ = watch.wait(timeout: .milliseconds(200))
                // `keycard down` (or anything else) removed the lab: its sockets here would keep the
                // deleted namespaces, and their tables, alive unseen, and nothing would ever come.
                if let gone = Self.gone(lab, namespaces: labNamespaces) {
                    Console.error("lab \(lab): \(gone): observe stopped")
                    throw Exit.failed
                }
            }
            let traffic = try LiveCommand.run("observe") { try watch.collect() }
            // A change applied meanwhile (`keycard apply`, `label`, `delete`) is in the record.
            if let record = try? LiveLabRecord.read(lab), record != live.record, let reopened = try? LiveLab.open(lab) {
                live = reopened
            }
            var lines: [HubbleFlowLine] = []
            if !traffic.isEmpty {
                // A lab in audit mode: a connection the policies would deny that got through is AUDIT.
                let log = FlowLog(
                    scenario: live.timeline.scenario.name, labName: lab, nodes: live.timeline.plan.nodes, audit: live.auditing)
                lines = log.trafficFlows(
                    traffic, cluster: live.cluster, step: live.record.baseStep,
                    stepName: "live" + (live.record.journal.isEmpty ? "" : " after \(live.record.journal.count) change(s)"), time: Date()
                ).filter { keep($0, namespaces: namespaces, pods: pods, verdicts: verdicts) }
            }
            if !lines.isEmpty {
                let text: String
                switch output {
                case .json: text = try FlowLog.encode(lines)
                case .compact: text = lines.map { Self.compact($0.flow) + "\n" }.joined()
                }
                // Written unbuffered: a reader of the pipe sees each flow as it happens; once the
                // reader is gone (`| head`), observing ends.
                guard Console.write(text, to: STDOUT_FILENO) else { break }
            }
            if last { break }
        }
        Console.error("lab \(lab): observe stopped (signal \(trap.received ?? 0))")
    }

    /// What of lab `lab` is gone, nil while its live record and every namespace of its plan are there.
    static func gone(_ lab: String, namespaces: [String]) -> String? {
        if !FileManager.default.fileExists(atPath: LiveLabRecord.path(lab)) {
            return "its live record \(LiveLabRecord.path(lab)) is gone (keycard down?)"
        }
        if let missing = namespaces.first(where: { !FileManager.default.fileExists(atPath: "\(NetworkNamespace.directory)/\($0)") }) {
            return "its namespace \(missing) is gone (keycard down?)"
        }
        return nil
    }

    private func keep(_ line: HubbleFlowLine, namespaces: Set<String>, pods: Set<String>, verdicts: Set<String>) -> Bool {
        let ends = [line.flow.source, line.flow.destination]
        if !namespaces.isEmpty && !ends.contains(where: { $0.namespace.map(namespaces.contains) ?? false }) { return false }
        if !pods.isEmpty
            && !ends.contains(where: { $0.podKey.map { pods.contains($0.description) } ?? false })
        {
            return false
        }
        return verdicts.isEmpty || verdicts.contains(line.flow.verdict)
    }

    /// `TIME ns/pod:SPORT -> ns/pod:PORT/TCP VERDICT DIRECTION by ns/policy,...` (an echo request:
    /// `ns/pod -> ns/pod ICMP`, as a probe's `--ports ICMP` names it); a dropped packet's
    /// policy verdict says `DENIED` and its drop event `DROPPED`, as `hubble observe -o compact`
    /// writes `policy-verdict:none INGRESS DENIED` before `Policy denied DROPPED`.
    static func compact(_ flow: HubbleFlow) -> String {
        func name(_ end: HubbleFlow.Endpoint, _ address: String) -> String {
            end.podKey?.description ?? address
        }
        let (proto, port, sourcePort): (String, Int?, Int?) =
            if let tcp = flow.l4.TCP { ("TCP", tcp.destination_port, tcp.source_port) } else if let udp = flow.l4.UDP {
                ("UDP", udp.destination_port, udp.source_port)
            } else if flow.l4.ICMPv4 != nil { ("ICMP", nil, nil) } else {
                ("SCTP", flow.l4.SCTP?.destination_port ?? 0, flow.l4.SCTP?.source_port)
            }
        let policies =
            (flow.egress_allowed_by ?? []) + (flow.ingress_allowed_by ?? []) + (flow.egress_denied_by ?? [])
            + (flow.ingress_denied_by ?? [])
        let verdict = flow.verdict == "DROPPED" && flow.event_type.type == 5 ? "DENIED" : flow.verdict
        let by =
            policies.isEmpty
            ? "" : " by " + policies.map { policy in policy.namespace.map { "\($0)/\(policy.name)" } ?? policy.name }.joined(separator: ",")
        return "\(flow.time) \(name(flow.source, flow.IP.source))\(sourcePort.map { ":\($0)" } ?? "") -> "
            + "\(name(flow.destination, flow.IP.destination))\(port.map { ":\($0)/" } ?? " ")\(proto) \(verdict) \(flow.traffic_direction ?? "-")\(by)"
    }
}

/// `-o` of `keycard observe`.
enum ObserveFormat: String, ExpressibleByArgument, CaseIterable {
    case json, compact
}
