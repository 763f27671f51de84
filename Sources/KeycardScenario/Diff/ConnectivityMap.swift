import KeycardModel
import KeycardValues

/// A peer of the connectivity graph, as np-guard's netpol-analyzer names it: a workload or bare
/// pod as `ns/name[Kind]` (replicas are one peer, judged by their first pod), an external by its
/// address as `a.b.c.d/32` (as `keycard graph` draws it; `keycard diff` names externals by
/// np-guard's IP-block pieces, `ExternalBlocks`).
public struct ConnectivityPeer: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var name: String
    /// The endpoint that stands for the peer in the model (a workload's first replica).
    public var endpoint: Endpoint
    /// The peer's namespace; nil for an external.
    public var namespace: String?

    public var description: String { name }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }
}

/// Who may open connections to whom on which ports, by the policy model: for every pair of peers
/// (sources: pods and externals; destinations: pods and externals; never an external to an
/// external, which no policy of the cluster judges), the ports the model allows among the ports it
/// judges for the pair. Those are every port the destination serves — a pod's container ports and
/// the target ports its Services send it, as the lab serves them
/// (`Cluster.servedPortsIncludingServices`) — and every port (ICMP included) a probe step of the
/// scenario sends between the pair (`ProbedCells`), and in a diff every port the other side
/// serves (`ConnectivityDiff.judgedCells`): so a verdict `keycard model` reports is a verdict of
/// the map, and both sides of a diff judge the same cells. Each cell is judged as `keycard model` judges a probe cell
/// (`ProbeCell.init(judging:...)`): with the mesh, a port is allowed when the NetworkPolicy model
/// and the mesh (PeerAuthentication, AuthorizationPolicy, for a plain request as `keycard model`'s
/// default probe sends) both allow it (`ProbeCell.outcome`).
public struct ConnectivityMap: Sendable {
    /// An ordered pair of peers, sorted by source then destination.
    public struct Pair: Hashable, Sendable, Comparable {
        public var source: ConnectivityPeer
        public var destination: ConnectivityPeer
        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.source, lhs.destination) < (rhs.source, rhs.destination) }
    }

    public var sources: [ConnectivityPeer]
    public var destinations: [ConnectivityPeer]
    /// Every port each destination serves, sorted.
    public var served: [ConnectivityPeer: [ProtocolPort]]
    /// The allowed ports of every pair (absent: none).
    public var allowed: [Pair: [ProtocolPort]]
    public let cluster: Cluster

    /// The cells probe steps send between the map's peers, beyond the served ports.
    public let probed: ProbedCells

    /// The map of `cluster` without the pods `leavingOut` (`Timeline.unpairedPods`: in manifests mode
    /// the cluster DNS pod keycard adds is no peer, as it is no probe source or destination);
    /// `mesh`: the mesh's decision counts too (`Timeline.usesMesh`); `probed`: the ports probe
    /// steps send between peers, judged besides the served ones (`Timeline.probedCells`).
    public init(_ cluster: Cluster, leavingOut: Set<ObjectKey> = [], mesh: Bool = false, probed: ProbedCells = ProbedCells()) {
        self.cluster = cluster
        self.probed = probed
        sources = Self.peers(cluster, leavingOut: leavingOut)
        destinations = sources
        let served = Self.servedPorts(cluster, sources)
        self.served = served
        let engine = PolicyEngine(cluster)
        let meshEngine = mesh ? MeshEngine(cluster) : nil
        var allowed: [Pair: [ProtocolPort]] = [:]
        for source in sources {
            guard let key = source.endpoint.sourceKey else { continue }
            for destination in destinations where destination != source && (source.namespace != nil || destination.namespace != nil) {
                let ports = Self.judgedPorts(served: served[destination] ?? [], probed: probed, source, destination).filter {
                    ProbeCell(judging: key, to: destination.endpoint, port: $0, engine: engine, mesh: meshEngine).outcome == .allow
                }
                if !ports.isEmpty { allowed[Pair(source: source, destination: destination)] = ports }
            }
        }
        self.allowed = allowed
    }

    /// The peers of `cluster` less the pods `leavingOut`, sorted: each workload (by its first pod),
    /// bare pod and external.
    static func peers(_ cluster: Cluster, leavingOut: Set<ObjectKey>) -> [ConnectivityPeer] {
        var pods: [ConnectivityPeer] = []
        var named: Set<String> = []
        for pod in cluster.sortedPods where !leavingOut.contains(pod.key) {
            let name = Self.peerName(of: pod)
            if named.insert(name).inserted { pods.append(ConnectivityPeer(name: name, endpoint: .pod(pod.key), namespace: pod.namespace)) }
        }
        let externals = cluster.externals.values.sorted { $0.name < $1.name }.map {
            ConnectivityPeer(name: Self.peerName(of: $0), endpoint: .external($0.name), namespace: nil)
        }
        return (pods + externals).sorted()
    }

    /// The ports each of `peers` serves in `cluster`, sorted: its container ports and the target
    /// ports its Services send it.
    static func servedPorts(_ cluster: Cluster, _ peers: [ConnectivityPeer]) -> [ConnectivityPeer: [ProtocolPort]] {
        var served: [ConnectivityPeer: [ProtocolPort]] = [:]
        let targets = cluster.serviceTargetPorts()
        for peer in peers {
            var ports = Set(cluster.servedPorts(of: peer.endpoint))
            if case .pod(let key) = peer.endpoint { ports.formUnion(targets[key] ?? []) }
            served[peer] = ports.sorted()
        }
        return served
    }

    /// The ports served in `cluster` (less the pods `leavingOut`), as cells toward each peer: the
    /// other side of a diff judges them too (`ConnectivityDiff`).
    public static func servedCells(_ cluster: Cluster, leavingOut: Set<ObjectKey> = []) -> ProbedCells {
        var cells = ProbedCells()
        for (peer, ports) in servedPorts(cluster, peers(cluster, leavingOut: leavingOut)) {
            for port in ports { cells.insert(port, toward: peer.name) }
        }
        return cells
    }

    /// The ports the map judges from `source` to `destination`: those the destination serves and
    /// those probe steps send between the pair (or toward the destination), sorted.
    public func judgedPorts(from source: ConnectivityPeer, to destination: ConnectivityPeer) -> [ProtocolPort] {
        Self.judgedPorts(served: served[destination] ?? [], probed: probed, source, destination)
    }

    static func judgedPorts(served: [ProtocolPort], probed: ProbedCells, _ source: ConnectivityPeer, _ destination: ConnectivityPeer)
        -> [ProtocolPort]
    {
        let sent = probed.ports(from: source.name, to: destination.name)
        return sent.isEmpty ? served : sent.union(served).sorted()
    }

    /// An external as the map names it: its address, `a.b.c.d/32`.
    public static func peerName(of external: External) -> String { "\(external.ip)/32" }

    /// `ns/name[Kind]`: the pod's workload, or the bare pod.
    public static func peerName(of pod: Pod) -> String {
        pod.owner.map { "\($0.workload.namespace)/\($0.workload.name)[\($0.workload.kind.rawValue)]" }
            ?? "\(pod.namespace)/\(pod.name)[Pod]"
    }

    /// The peer an endpoint belongs to (a replica to its workload), if the map has it.
    public func peer(of endpoint: Endpoint) -> ConnectivityPeer? {
        switch endpoint {
        case .pod(let key): cluster.pods[key].flatMap { peer(named: Self.peerName(of: $0)) }
        case .external(let name): cluster.externals[name].flatMap { peer(named: Self.peerName(of: $0)) }
        case .node, .address, .service, .exposed: nil
        }
    }

    /// The peer named `name`, if the map has it.
    public func peer(named name: String) -> ConnectivityPeer? { destinations.first { $0.name == name } }

    /// np-guard's connection text (`ConnStrFromConnProperties`, `protocolAndPortsStr`): one
    /// `PROTO ports` string per protocol (ports ascending, consecutive ones as a range `a-b`), those
    /// strings sorted as text (Go's `sort.Strings`, so `ICMP,SCTP 9,TCP 53,80-82,90,UDP 53`) and
    /// joined by commas; or `No Connections`. ICMP has no ports: an allowed echo is `ICMP` (np-guard
    /// models no ICMP; this is its protocol string with no port set). Never `All Connections`:
    /// keycard judges the cells it lists (`ConnectivityMap`), not every port of every protocol.
    public static func text(_ ports: [ProtocolPort]) -> String {
        guard !ports.isEmpty else { return "No Connections" }
        var parts: [String] = []
        for proto in TransportProtocol.allCases {
            let numbers = ports.filter { $0.proto == proto }.map(\.port).sorted()
            guard !numbers.isEmpty else { continue }
            if proto == .icmp {
                parts.append(proto.rawValue)
                continue
            }
            var ranges: [String] = []
            var start = numbers[0]
            var end = numbers[0]
            for number in numbers.dropFirst() {
                if number == end + 1 {
                    end = number
                    continue
                }
                ranges.append(start == end ? "\(start)" : "\(start)-\(end)")
                (start, end) = (number, number)
            }
            ranges.append(start == end ? "\(start)" : "\(start)-\(end)")
            parts.append("\(proto.rawValue) \(ranges.joined(separator: ","))")
        }
        return parts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ",")
    }
}

/// Cells the connectivity map judges besides the ports its own cluster serves, by peer names
/// (`ConnectivityMap.peerName`): the ports probe steps send between two peers (a probe step's
/// cells to pods and externals, each source pod and destination by its peer, a replica by its
/// workload; Service and node cells have no peer pair and are left out), and, in a diff, the ports
/// the other side serves, toward a destination from every source.
public struct ProbedCells: Sendable, Equatable {
    /// Ports by source peer name, then destination peer name.
    public private(set) var ports: [String: [String: Set<ProtocolPort>]] = [:]
    /// Ports toward a destination peer from every source.
    public private(set) var toward: [String: Set<ProtocolPort>] = [:]

    public init() {}

    /// The ports judged from `source` to `destination` (peer names); empty when none.
    public func ports(from source: String, to destination: String) -> Set<ProtocolPort> {
        (ports[source]?[destination] ?? []).union(toward[destination] ?? [])
    }

    public mutating func insert(_ port: ProtocolPort, from source: String, to destination: String) {
        ports[source, default: [:]][destination, default: []].insert(port)
    }

    public mutating func insert(_ port: ProtocolPort, toward destination: String) {
        toward[destination, default: []].insert(port)
    }

    /// Both sets of cells: a diff judges on both sides every cell either side judges.
    public func union(_ other: ProbedCells) -> ProbedCells {
        var result = self
        for (source, byDestination) in other.ports {
            for (destination, set) in byDestination { result.ports[source, default: [:]][destination, default: []].formUnion(set) }
        }
        for (destination, set) in other.toward { result.toward[destination, default: []].formUnion(set) }
        return result
    }
}

extension Timeline {
    /// Every cell the scenario's probe steps send between peers of the connectivity map, each
    /// named in the cluster of its step. A step over the cell limit (loaded with `CellLimit.warn`)
    /// adds none: its cells are too many to judge twice.
    public var probedCells: ProbedCells {
        var cells = ProbedCells()
        for (index, probe) in probes where !probe.isOverCellLimit {
            let state = cluster(afterStep: index)
            func name(_ endpoint: Endpoint) -> String? {
                switch endpoint {
                case .pod(let key): state.pods[key].map(ConnectivityMap.peerName(of:))
                case .external(let name): state.externals[name].map(ConnectivityMap.peerName(of:))
                case .node, .address, .service, .exposed: nil
                }
            }
            let destinations = probe.destinations.compactMap(name)
            for source in probe.sources {
                guard let from = name(state.source(source)) else { continue }
                for to in destinations where to != from {
                    for port in probe.ports { cells.insert(port, from: from, to: to) }
                }
            }
        }
        return cells
    }
}
