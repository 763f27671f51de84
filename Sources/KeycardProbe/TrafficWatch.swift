import Glibc
import KeycardCompiler
import KeycardKernel
import KeycardScenario
import KeycardTopology
import KeycardValues

/// Watches every connection in a lab through the kernel, whoever makes it (keycard's prober, a
/// `command:` program, the lab's DNS server), for a flow log of real traffic:
///
/// - forwarded: conntrack's NEW events (`ConntrackListener`, multicast, so any number of watchers
///   may share a namespace) in the namespaces where policy is decided — every pod's in pod
///   placement, every node's in node placement. A connection is reported once, by the namespace
///   that judged its last side: the destination pod's own (pod placement) or its node's (node
///   placement); a connection to anything but a lab pod by its source's. Conntrack confirms a
///   connection only when its first packet passed every hook there, so a NEW event there is the
///   kernel's word that both sides let it through.
/// - dropped: the default-deny rules' NFLOG records (group `PolicyCompiler.dropLogGroup`, prefix
///   `kc deny DIRECTION ns/pod`), read from the run's own `DropEvidence` through its
///   `EvidenceTap` (`keycard run`), or from listeners of this watch (`keycard observe`; a
///   namespace whose group another process holds is retried at each `collect`).
///   Retransmissions of a dropped packet (same addresses and ports; for an ICMP echo request, the
///   same identifier) are counted, not repeated.
///
/// Not thread-safe: one owner reads it.
public final class TrafficWatch {
    /// How long a dropped flow is remembered, so its retransmissions count as the same connection.
    static let retransmissionWindow: Duration = .seconds(120)

    private let conntrack: [ConntrackListener]
    /// Per conntrack namespace: the destinations whose delivery it reports, and the sources whose
    /// connections outside the pod network it reports.
    private let delivers: [String: Set<IPv4>]
    private let sends: [String: Set<IPv4>]
    private let podAddresses: Set<IPv4>
    /// Addresses of the pods that run a program (`command:`); every other pod runs none, so a
    /// connection it opens is keycard's own (its prober, scanner or DNS queries).
    private let programAddresses: Set<IPv4>
    /// `keycard run`: the run's evidence, copied through its tap.
    private let shared: DropEvidence?
    /// `keycard observe`: this watch's own NFLOG listeners, and the namespaces still to open.
    private var own: [NflogListener] = []
    private var pending: [String] = []
    private var recentDrops: [PacketFlow: (instant: ContinuousClock.Instant, index: Int?)] = [:]
    private let clock = ContinuousClock()

    /// Watches lab `plan` under `enforcement`. With `evidence` (a run's, whose tap is set here),
    /// drops come from it; without, the watch opens its own NFLOG listeners.
    public init(plan: LabPlan, enforcement: Enforcement, evidence: DropEvidence? = nil) throws(KernelError) {
        var delivers: [String: Set<IPv4>] = [:]
        var sends: [String: Set<IPv4>] = [:]
        switch enforcement {
        case .pod:
            for pod in plan.pods {
                delivers[pod.netns, default: []].insert(pod.address)
                sends[pod.netns, default: []].insert(pod.address)
            }
        case .node:
            let nodes = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.index, $0.namespace) })
            for node in plan.nodes { delivers[node.namespace] = [] }
            for pod in plan.pods {
                guard let namespace = nodes[pod.nodeIndex] else { continue }
                delivers[namespace, default: []].insert(pod.address)
                sends[namespace, default: []].insert(pod.address)
            }
        }
        self.delivers = delivers
        self.sends = sends
        podAddresses = Set(plan.pods.map(\.address))
        programAddresses = Set(plan.pods.filter { !($0.command ?? []).isEmpty }.map(\.address))
        var listeners: [ConntrackListener] = []
        for namespace in delivers.keys.sorted() { listeners.append(try ConntrackListener(namespace: namespace)) }
        conntrack = listeners
        shared = evidence
        if let evidence {
            if evidence.tap == nil { evidence.tap = EvidenceTap() }
        } else {
            pending = SocketProbeRunner.evidenceNamespaces(plan, enforcement: enforcement)
            openPending()
        }
    }

    /// Namespaces whose drop log this watch could not read yet (another process holds the NFLOG
    /// group there: a `keycard probe` or `run` on the same lab); retried at each `collect`.
    public var blindNamespaces: [String] { pending }

    /// Descriptors that become readable when the kernel reports something (for poll).
    public var descriptors: [Int32] { conntrack.map(\.fd) + own.map(\.fd) }

    /// Waits up to `timeout` for something to read; true when something is.
    public func wait(timeout: Duration) -> Bool {
        var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        return poll(&entries, nfds_t(entries.count), milliseconds) > 0
    }

    /// Reads everything the kernel reported since the last call: the connections, drops first
    /// (they settle in the order logged), then the forwarded ones.
    public func collect() throws(KernelError) -> [ObservedTraffic] {
        if !pending.isEmpty { openPending() }
        var found: [ObservedTraffic] = []
        var drops: [EvidenceTap.Drop] = []
        if let shared {
            try shared.drainIntoTap()
            drops = shared.tap?.takeDrops() ?? []
        } else {
            for listener in own { drops += try listener.drainDrops() }
        }
        let now = clock.now
        recentDrops = recentDrops.filter { now - $0.value.instant < Self.retransmissionWindow }
        for drop in drops {
            guard let flow = drop.packet.flow, let port = Self.port(flow) else { continue }
            if let seen = recentDrops[flow] {
                // The same packet again (a retransmitted SYN): one more attempt of that connection.
                recentDrops[flow] = (now, seen.index)
                if let index = seen.index { found[index].packets += 1 }
                continue
            }
            recentDrops[flow] = (now, found.count)
            found.append(
                ObservedTraffic(
                    source: flow.source, sourcePort: flow.sourcePort.map(Int.init), destination: flow.destination, port: port,
                    dropPrefix: drop.packet.prefix, prober: prober(flow, flow), namespace: drop.namespace))
        }
        // Indices point into this call's list only.
        for key in recentDrops.keys { recentDrops[key]?.index = nil }
        for listener in conntrack {
            for connection in try listener.drain() {
                let flow = connection.delivered
                guard flow.source != flow.destination, let port = Self.port(flow) else { continue }
                let reports =
                    podAddresses.contains(flow.destination)
                    ? delivers[listener.namespace]?.contains(flow.destination) == true
                    : sends[listener.namespace]?.contains(flow.source) == true
                guard reports else { continue }
                found.append(
                    ObservedTraffic(
                        source: flow.source, sourcePort: flow.sourcePort.map(Int.init), destination: flow.destination, port: port,
                        dropPrefix: nil, prober: prober(connection.original, flow), namespace: listener.namespace))
            }
        }
        return found
    }

    /// Whether keycard's prober made the connection (`original` as it left, `delivered` after a
    /// translation): a source that runs no program is keycard's; else the run's tap knows the
    /// prober's own flows; nil when neither can tell (`keycard observe`, a program pod's socket).
    private func prober(_ original: PacketFlow, _ delivered: PacketFlow) -> Bool? {
        if !programAddresses.contains(original.source) { return true }
        return shared?.tap.map { $0.isProber(original) || $0.isProber(delivered) }
    }

    /// After a step's connections were collected: the prober's flows so far are forgotten.
    public func stepEnded() { shared?.tap?.forgetProberFlows() }

    /// TCP, UDP or SCTP with a destination port, or an ICMP echo request (`ProtocolPort.icmpEcho`,
    /// what an `ICMP` probe sends); nil for anything else (other ICMP types, fragments).
    static func port(_ flow: PacketFlow) -> ProtocolPort? {
        if flow.proto == TransportProtocol.icmp.number { return flow.echoIdentifier == nil ? nil : .icmpEcho }
        guard let proto = TransportProtocol.allCases.first(where: { $0.number == flow.proto }), let port = flow.destinationPort else {
            return nil
        }
        return ProtocolPort(proto, Int(port))
    }

    private func openPending() {
        var still: [String] = []
        for namespace in pending {
            do {
                own.append(try NflogListener(namespace: namespace, group: PolicyCompiler.dropLogGroup))
            } catch {
                still.append(namespace)
            }
        }
        pending = still
    }
}
