import KeycardModel
import KeycardValues

/// A connection a run saw succeed: `from` reached `to` on `port` (after Service translation).
/// Each end is a source key (`Cluster.source(_:)`): a pod, or where no pod is, the external
/// (`external/NAME`) or lab node (`node/NAME`) at that address. At least one end is a pod.
public struct ObservedFlow: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var from: ObjectKey
    public var to: ObjectKey
    public var port: ProtocolPort

    public init(from: ObjectKey, to: ObjectKey, port: ProtocolPort) {
        self.from = from
        self.to = to
        self.port = port
    }

    public var description: String { "\(from) -> \(to) \(port)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.from, lhs.to, lhs.port.proto.rawValue, lhs.port.port) < (rhs.from, rhs.to, rhs.port.proto.rawValue, rhs.port.port)
    }

    /// The flows of a flow log that show an application's traffic: `FORWARDED` probe cells that a
    /// server answered (not a closed port's reset) and answered DNS queries, between two different
    /// ends, one of them a pod. Scan targets are left out (a scan explores, it is no application's
    /// flow), and so are `AUDIT` flows (the policies under audit would deny them) and drops. An
    /// end Hubble names by no pod is found by its address in `cluster` (`end`): an external or a
    /// lab node, which a policy names by `ipBlock`.
    public static func observed(_ lines: [HubbleFlowLine], in cluster: Cluster) -> Set<ObservedFlow> {
        var flows: Set<ObservedFlow> = []
        for line in lines {
            let flow = line.flow
            guard flow.verdict == "FORWARDED", let facts = flow.extensions?.value else { continue }
            guard (facts.kind == "probe" && facts.observed == "allow") || facts.kind == "dns" else { continue }
            guard let pair = ends(of: flow, facts, in: cluster) else { continue }
            let port: ProtocolPort? =
                if let tcp = flow.l4.TCP { ProtocolPort(.tcp, tcp.destination_port) } else if let udp = flow.l4.UDP {
                    ProtocolPort(.udp, udp.destination_port)
                } else if let sctp = flow.l4.SCTP { ProtocolPort(.sctp, sctp.destination_port) } else { nil }
            guard var port else { continue }
            // An HBONE hop shows 15008; the application's port is the flow the run saw.
            if let application = facts.applicationPort { port = ProtocolPort(.tcp, application) }
            flows.insert(ObservedFlow(from: pair.from, to: pair.to, port: port))
        }
        return flows
    }

    /// The answered ICMP probes of a flow log between two different ends, as `from -> to ICMP`,
    /// sorted: flows no generated policy can allow by themselves. A NetworkPolicy port names TCP,
    /// UDP or SCTP only (NetworkPolicyPort.protocol), and a rule without ports would open every
    /// port of the peer, so the generator leaves them out and says so.
    public static func icmp(_ lines: [HubbleFlowLine], in cluster: Cluster) -> [String] {
        var pairs: Set<String> = []
        for line in lines {
            let flow = line.flow
            guard flow.verdict == "FORWARDED", flow.l4.ICMPv4 != nil, let facts = flow.extensions?.value,
                facts.kind == "probe", facts.observed == "allow", let pair = ends(of: flow, facts, in: cluster)
            else { continue }
            pairs.insert("\(pair.from) -> \(pair.to) ICMP")
        }
        return pairs.sorted()
    }

    /// A flow's source and destination keys (`end`); nil when either is unknown, both are the
    /// same, or neither is a pod (no NetworkPolicy selects an external or a node).
    static func ends(of flow: HubbleFlow, _ facts: KeycardFlowFacts, in cluster: Cluster) -> (from: ObjectKey, to: ObjectKey)? {
        guard let from = end(flow.source, hostNetwork: facts.hostNetworkSource, address: flow.IP.source, in: cluster),
            let to = end(flow.destination, hostNetwork: facts.hostNetworkDestination, address: flow.IP.destination, in: cluster),
            from != to
        else { return nil }
        func isPod(_ key: ObjectKey) -> Bool { if case .pod = cluster.source(key) { true } else { false } }
        return isPod(from) || isPod(to) ? (from, to) : nil
    }

    /// One end of a flow: the pod Hubble names; a host-network pod, which Hubble names as its node
    /// (`reserved:host`), by keycard's facts; else what lives at `address` in `cluster` when it is
    /// an external (`external/NAME`) or a lab node (`node/NAME`), whose labels Hubble reduces to
    /// `reserved:world` or a CIDR identity and `reserved:host`/`remote-node`. Nil otherwise.
    static func end(_ endpoint: HubbleFlow.Endpoint, hostNetwork: String?, address: String, in cluster: Cluster) -> ObjectKey? {
        if let key = endpoint.podKey ?? hostNetwork.flatMap(ObjectKey.parse) { return key }
        guard let ip = IPv4(address) else { return nil }
        switch cluster.endpoint(at: ip) {
        case .external(let name): return .external(name)
        case .node(let name): return .node(name)
        default: return nil
        }
    }
}
