import KeycardValues

/// A host outside the pod network (a metadata service, a public site) that probes can target.
public struct External: Hashable, Sendable {
    public var name: String
    public var ip: IPv4
    public var ports: [ProtocolPort]

    public init(name: String, ip: IPv4, ports: [ProtocolPort]) {
        self.name = name
        self.ip = ip
        self.ports = ports
    }
}

/// Something a connection starts from or goes to.
public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
    case pod(ObjectKey)
    case external(String)
    /// An address that is neither a known pod nor an external (a scan over a CIDR meets these).
    case address(IPv4)

    /// Parses `ns/pod` or `external/NAME` (externals live in the reserved `external` prefix).
    public static func parse(_ text: String) -> Endpoint? {
        guard let key = ObjectKey.parse(text) else { return nil }
        return key.namespace == "external" ? .external(key.name) : .pod(key)
    }

    public var description: String {
        switch self {
        case .pod(let key): key.description
        case .external(let name): "external/\(name)"
        case .address(let ip): ip.description
        }
    }
}

/// The objects in force at one moment, and the addresses the lab gives pods.
public struct Cluster: Sendable {
    public var namespaces: [String: Namespace] = [:]
    public var pods: [ObjectKey: Pod] = [:]
    public var policies: [ObjectKey: NetworkPolicy] = [:]
    public var externals: [String: External] = [:]
    /// Pod addresses (from `status.podIP` or the lab's allocation).
    public var addresses: [ObjectKey: IPv4] = [:]
    /// `spec.mesh`: root namespace and trust domain (spec mesh.md 2.1).
    public var mesh = MeshSettings()
    public var peerAuthentications: [ObjectKey: PeerAuthentication] = [:]
    public var authorizationPolicies: [ObjectKey: AuthorizationPolicy] = [:]
    /// Pods that got a sidecar when they were created (R2: relabelling later changes nothing).
    public var sidecars: Set<ObjectKey> = []
    /// Counts change batches, the lab's clock for "the oldest" mesh policy (R9).
    public var generation = 0
    /// Workloads (Deployments, StatefulSets...); their pods are in `pods`, with an `owner`.
    public var workloads: [WorkloadKey: WorkloadState] = [:]
    /// The lab's nodes (`node-0` ...): a DaemonSet runs a pod on each.
    public var nodeCount = 1

    public init() {}

    public func address(of endpoint: Endpoint) -> IPv4? {
        switch endpoint {
        case .pod(let key): addresses[key]
        case .external(let name): externals[name]?.ip
        case .address(let ip): ip
        }
    }

    /// What lives at `ip`: a pod, an external, or nothing known.
    public func endpoint(at ip: IPv4) -> Endpoint {
        if let pod = addresses.first(where: { $0.value == ip && pods[$0.key] != nil }) { return .pod(pod.key) }
        if let external = externals.values.first(where: { $0.ip == ip }) { return .external(external.name) }
        return .address(ip)
    }

    /// The pods `workload`'s controller made, sorted by key.
    public func pods(of workload: WorkloadKey) -> [Pod] {
        pods.values.filter { $0.owner?.workload == workload }.sorted { $0.key < $1.key }
    }

    /// Pods sorted by key: the lab's and the report's order.
    public var sortedPods: [Pod] { pods.values.sorted { $0.key < $1.key } }

    /// Policies of `namespace` that select `pod` and have `direction` among their types.
    public func isolatingPolicies(for pod: Pod, _ direction: NetworkPolicy.PolicyType) -> [NetworkPolicy] {
        policies.values
            .filter { $0.namespace == pod.namespace && $0.effectivePolicyTypes.contains(direction) && $0.podSelector.matches(pod.labels) }
            .sorted { $0.key < $1.key }
    }

    /// Every (protocol, port) that `endpoint` serves.
    public func servedPorts(of endpoint: Endpoint) -> [ProtocolPort] {
        switch endpoint {
        case .pod(let key): (pods[key]?.ports ?? []).map { ProtocolPort($0.proto, $0.port) }
        case .external(let name): externals[name]?.ports ?? []
        case .address: []
        }
    }
}
