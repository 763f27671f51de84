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
/// (sources: pods; destinations: pods and externals), the ports the destination serves that the
/// model allows. keycard's cells are served ports because those are what packets can prove: a
/// pod's are its container ports and the target ports its Services send it, as the lab serves
/// them (`Cluster.servedPortsIncludingServices`). With the mesh, a port is allowed when the
/// NetworkPolicy model and the mesh (PeerAuthentication, AuthorizationPolicy: `MeshEngine`, for a
/// plain request as `keycard model`'s default probe sends) both allow it (`ProbeCell.outcome`).
public struct ConnectivityMap: Sendable {
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

    /// The map of `cluster` without the pods `leavingOut` (`Timeline.unpairedPods`: in manifests mode
    /// the cluster DNS pod keycard adds is no peer, as it is no probe source or destination);
    /// `mesh`: the mesh's decision counts too (`Timeline.usesMesh`).
    public init(_ cluster: Cluster, leavingOut: Set<ObjectKey> = [], mesh: Bool = false) {
        self.cluster = cluster
        var pods: [ConnectivityPeer] = []
        var named: Set<String> = []
        for pod in cluster.sortedPods where !leavingOut.contains(pod.key) {
            let name = Self.peerName(of: pod)
            if named.insert(name).inserted { pods.append(ConnectivityPeer(name: name, endpoint: .pod(pod.key), namespace: pod.namespace)) }
        }
        let externals = cluster.externals.values.sorted { $0.name < $1.name }.map {
            ConnectivityPeer(name: "\($0.ip)/32", endpoint: .external($0.name), namespace: nil)
        }
        sources = pods.sorted()
        destinations = (pods + externals).sorted()
        var served: [ConnectivityPeer: [ProtocolPort]] = [:]
        let targets = cluster.serviceTargetPorts()
        for destination in destinations {
            var ports = Set(cluster.servedPorts(of: destination.endpoint))
            if case .pod(let key) = destination.endpoint { ports.formUnion(targets[key] ?? []) }
            served[destination] = ports.sorted()
        }
        self.served = served
        let engine = PolicyEngine(cluster)
        let meshEngine = mesh ? MeshEngine(cluster) : nil
        var allowed: [Pair: [ProtocolPort]] = [:]
        for source in sources {
            for destination in destinations where destination != source {
                let ports = (served[destination] ?? []).filter { port in
                    guard engine.evaluate(from: source.endpoint, to: destination.endpoint, port: port).decision.allows else { return false }
                    guard let meshEngine, case .pod(let from) = source.endpoint else { return true }
                    return meshEngine.evaluate(from: from, to: destination.endpoint, port: port).outcome == .allow
                }
                if !ports.isEmpty { allowed[Pair(source: source, destination: destination)] = ports }
            }
        }
        self.allowed = allowed
    }

    /// `ns/name[Kind]`: the pod's workload, or the bare pod.
    public static func peerName(of pod: Pod) -> String {
        pod.owner.map { "\($0.workload.namespace)/\($0.workload.name)[\($0.workload.kind.rawValue)]" }
            ?? "\(pod.namespace)/\(pod.name)[Pod]"
    }

    /// The peer an endpoint belongs to (a replica to its workload), if the map has it.
    public func peer(of endpoint: Endpoint) -> ConnectivityPeer? {
        switch endpoint {
        case .pod(let key): cluster.pods[key].flatMap { peer(named: Self.peerName(of: $0)) }
        case .external: destinations.first { $0.endpoint == endpoint }
        case .node, .address, .service, .exposed: nil
        }
    }

    /// The peer named `name`, if the map has it.
    public func peer(named name: String) -> ConnectivityPeer? { destinations.first { $0.name == name } }

    /// np-guard's connection text (`ConnStrFromConnProperties`): one `PROTO ports` string per
    /// protocol (ports ascending, consecutive ones as a range `a-b`), those strings sorted as text
    /// (Go's `sort.Strings`, so `SCTP 9,TCP 53,80-82,90,UDP 53`) and joined by commas; or
    /// `No Connections`.
    public static func text(_ ports: [ProtocolPort]) -> String {
        guard !ports.isEmpty else { return "No Connections" }
        var parts: [String] = []
        for proto in TransportProtocol.allCases {
            let numbers = ports.filter { $0.proto == proto }.map(\.port).sorted()
            guard !numbers.isEmpty else { continue }
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
