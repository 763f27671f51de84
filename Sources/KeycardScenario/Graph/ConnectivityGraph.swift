import KeycardModel
import KeycardValues

/// The allowed-connectivity graph of one state of a scenario (`keycard graph`, the HTML report):
/// peers (workloads, bare pods, externals) grouped by namespace; an allowed edge per pair with the
/// ports that answer (served ones, and ICMP echo) the model allows (`ConnectivityMap`: externals
/// are sources too); a denied edge per pair that some probe step of the scenario sends such a port
/// and the model denies at this state (drawn dashed), with those ports. keycard's own pods
/// in manifests mode (`Timeline.unpairedPods`) are left out; a probe step over `ResolvedProbe.maximumCells` (loaded
/// with `CellLimit.warn`) draws no denied edge: a million dashed edges would make a graph no one
/// can read, and the loader's warning says so.
public struct ConnectivityGraph: Sendable {
    /// An arrow from `source` to `destination`: the ports the model allows, or a blocked pair.
    public struct Edge: Hashable, Sendable {
        public var source: ConnectivityPeer
        public var destination: ConnectivityPeer
        public var ports: [ProtocolPort]
        public var allowed: Bool
    }

    public var peers: [ConnectivityPeer]
    public var edges: [Edge]

    /// The namespaces, sorted, each with its peers; externals (no namespace) are left out here.
    public var namespaces: [(name: String, peers: [ConnectivityPeer])] {
        Dictionary(grouping: peers.filter { $0.namespace != nil }, by: { $0.namespace ?? "" })
            .sorted { $0.key < $1.key }.map { (name: $0.key, peers: $0.value.sorted()) }
    }

    /// The graph of `timeline` after step `index` (default: after its last step).
    public init(_ timeline: Timeline, afterStep index: Int? = nil) {
        let cluster = timeline.cluster(afterStep: index ?? timeline.scenario.steps.count)
        let map = ConnectivityMap(cluster, leavingOut: timeline.unpairedPods, mesh: timeline.usesMesh, probed: timeline.probedCells)
        peers = map.destinations
        // The ports that answer: served ones, and ICMP echo (the kernel answers a ping). A probed
        // port nothing serves (a scan's many closed ports) is no edge: it would bury the graph; the
        // diff compares those too.
        func answering(_ ports: some Sequence<ProtocolPort>, at destination: ConnectivityPeer) -> [ProtocolPort] {
            let served = Set(map.served[destination] ?? [])
            return ports.filter { $0.proto == .icmp || served.contains($0) }.sorted()
        }
        var edges = map.allowed.sorted { $0.key < $1.key }.compactMap { pair, ports -> Edge? in
            let shown = answering(ports, at: pair.destination)
            return shown.isEmpty ? nil : Edge(source: pair.source, destination: pair.destination, ports: shown, allowed: true)
        }
        // Probed cells the model denies now, by pair: the map judged them, and did not allow them.
        for source in map.sources {
            // No external to an external: the map judges none (no policy of the cluster does).
            for destination in map.destinations where destination != source && (source.namespace != nil || destination.namespace != nil) {
                let sent = map.probed.ports(from: source.name, to: destination.name)
                guard !sent.isEmpty else { continue }
                let pair = ConnectivityMap.Pair(source: source, destination: destination)
                let denied = answering(sent.subtracting(map.allowed[pair] ?? []), at: destination)
                if !denied.isEmpty { edges.append(Edge(source: source, destination: destination, ports: denied, allowed: false)) }
            }
        }
        self.edges = edges
    }
}
