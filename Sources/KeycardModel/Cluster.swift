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
    /// A lab node (`node/node-0`): its own namespace and address, as a kubelet connects
    /// (NodeSource.swift).
    case node(String)
    /// An address that is neither a known pod nor an external (a scan over a CIDR meets these).
    case address(IPv4)
    /// A Service's ClusterIP (`svc/ns/name`); with `backend`, the connection the proxy sends to
    /// that backend pod (a probe cell aims at each backend in turn).
    case service(ObjectKey, backend: ObjectKey? = nil)
    /// A NodePort or LoadBalancer Service from outside: `svc/ns/name@node-N` (node N's address on
    /// the Service's node port) or `svc/ns/name@lb` (its load-balancer address on the Service
    /// port); with `backend`, the connection the path sends to that backend (`NodePortPath`).
    case exposed(ObjectKey, ServiceEntry, backend: ObjectKey? = nil)

    /// Parses `ns/pod`, `external/NAME`, `node/NAME` or `svc/ns/name`. `external/NAME` and
    /// `node/NAME` are read as the external and the node; a pod of a namespace called `external`
    /// or `node` is found again by `Cluster.resolve` when the lab has no such external or node.
    public static func parse(_ text: String) -> Endpoint? {
        if text.hasPrefix("svc/") {
            // `svc/ns/name`, or as results name a cell, `svc/ns/name>ns/pod`.
            let pieces = text.dropFirst(4).split(separator: ">", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            let named = pieces[0].split(separator: "@", omittingEmptySubsequences: false)
            guard named.count <= 2, let key = ObjectKey.parse(String(named[0])) else { return nil }
            var backend: ObjectKey?
            if pieces.count == 2 {
                guard let parsed = ObjectKey.parse(String(pieces[1])) else { return nil }
                backend = parsed
            }
            if named.count == 2 {
                guard let entry = ServiceEntry.parse(String(named[1])) else { return nil }
                return .exposed(key, entry, backend: backend)
            }
            return .service(key, backend: backend)
        }
        guard let key = ObjectKey.parse(text) else { return nil }
        return .written(key)
    }

    public var description: String {
        switch self {
        case .pod(let key): key.description
        case .external(let name): "external/\(name)"
        case .node(let name): "node/\(name)"
        case .address(let ip): ip.description
        case .service(let key, let backend): "svc/\(key)" + (backend.map { ">\($0)" } ?? "")
        case .exposed(let key, let entry, let backend): "svc/\(key)@\(entry)" + (backend.map { ">\($0)" } ?? "")
        }
    }

    /// The Service this endpoint names, if it names one.
    public var serviceKey: ObjectKey? {
        if case .service(let key, _) = self { return key }
        if case .exposed(let key, _, _) = self { return key }
        return nil
    }

    /// The pod a connection to this endpoint reaches: the pod itself, or a Service cell's backend
    /// (through a ClusterIP, a node port or the load balancer); nil for anything else.
    public var reachedPod: ObjectKey? {
        switch self {
        case .pod(let key), .service(_, let key?), .exposed(_, _, let key?): key
        default: nil
        }
    }

    /// Whether `source` reaching this endpoint reaches itself through its own Service's ClusterIP
    /// (hairpin): a Service cell whose backend is `source`.
    public func isHairpin(from source: ObjectKey) -> Bool {
        if case .service(_, let backend?) = self { return backend == source }
        return false
    }

    /// The endpoint a table column or an expectation names: a Service without its backend.
    public var column: Endpoint {
        if case .service(let key, _) = self { return .service(key) }
        if case .exposed(let key, let entry, _) = self { return .exposed(key, entry) }
        return self
    }
}

/// The objects in force at one moment, and the addresses the lab gives pods.
public struct Cluster: Sendable {
    public var namespaces: [String: Namespace] = [:]
    public var pods: [ObjectKey: Pod] = [:]
    public var policies: [ObjectKey: NetworkPolicy] = [:]
    /// Calico StagedKubernetesNetworkPolicies: reviewed, never enforced (`withStagedPolicies`).
    public var stagedPolicies: [ObjectKey: StagedPolicy] = [:]
    /// Cluster-scoped ClusterNetworkPolicies (v1alpha2, and v1alpha1 ANP/BANP converted).
    public var clusterPolicies: [ClusterPolicyKey: ClusterNetworkPolicy] = [:]
    public var externals: [String: External] = [:]
    /// v1 Services by key; their endpoints are derived from `pods` (`backends(of:port:)`).
    public var services: [ObjectKey: Service] = [:]
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
    /// How policies apply to Service traffic (`spec.lab.serviceEnforcement`).
    public var serviceEnforcement: ServiceEnforcement = .postDNAT
    /// Each pod's node index (the lab's placement, fixed for the scenario): the local-node rule
    /// (NodeSource.swift) and which endpoints are local to a node for `externalTrafficPolicy`
    /// (`NodePortPath`) need it.
    public var podNodes: [ObjectKey: Int] = [:]
    /// Whether an isolated pod accepts its own node (`spec.lab.nodeIngress`).
    public var nodeIngress: NodeIngress = .allow
    /// `spec.lab.loadBalancerCIDR`: where LoadBalancer Services get their address; nil: none do.
    public var loadBalancerCIDR: CIDR?

    public init() {}

    /// The IPv4 address a connection to `endpoint` is sent to: a pod's IP, an external's, a node's
    /// (`LabNetwork.nodeAddress`), a Service's ClusterIP, or the entry address of a node port or load
    /// balancer; nil for a pod without an address or an unknown name.
    public func address(of endpoint: Endpoint) -> IPv4? {
        switch endpoint {
        case .pod(let key): addresses[key]
        case .external(let name): externals[name]?.ip
        case .node(let name): nodeIndex(name).map(LabNetwork.nodeAddress)
        case .address(let ip): ip
        case .service(let key, _): services[key]?.clusterIP
        case .exposed(let key, let entry, _): exposedAddress(key, entry)
        }
    }

    /// What lives at `ip`: a pod, an external, a node (host-network pods included), or nothing known.
    public func endpoint(at ip: IPv4) -> Endpoint {
        if let pod = addresses.first(where: { $0.value == ip && pods[$0.key].map { !$0.hostNetwork } == true }) { return .pod(pod.key) }
        if let external = externals.values.first(where: { $0.ip == ip }) { return .external(external.name) }
        if let node = (0..<nodeCount).first(where: { LabNetwork.nodeAddress($0) == ip }) { return .node("node-\(node)") }
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
        // NetworkPolicy does not apply to host-network pods (HostNetwork.swift).
        if pod.hostNetwork { return [] }
        return policies.values
            .filter { $0.namespace == pod.namespace && $0.effectivePolicyTypes.contains(direction) && $0.podSelector.matches(pod.labels) }
            .sorted { $0.key < $1.key }
    }

    /// Every (protocol, port) that `endpoint` serves.
    public func servedPorts(of endpoint: Endpoint) -> [ProtocolPort] {
        switch endpoint {
        case .pod(let key): (pods[key]?.ports ?? []).map { ProtocolPort($0.proto, $0.port) }
        case .external(let name): externals[name]?.ports ?? []
        case .node, .address: []
        case .service(let key, let backend):
            // The Service's ports; a backend answers those whose target port resolves on it.
            (services[key].map { service in
                service.ports.filter { port in
                    backend.map { pod in self.backend(pod, of: service, port: port) != nil } ?? true
                }
                .map(\.protocolPort)
            } ?? [])
        case .exposed(let key, let entry, let backend):
            // The ports the path listens on: node ports on a node, Service ports on the load balancer.
            (services[key].map { service in
                service.ports.filter { port in
                    port.nodePort != nil
                        && (backend.map { pod in self.backend(pod, of: service, port: port) != nil } ?? true)
                }
                .map { port in
                    switch entry {
                    case .node: ProtocolPort(port.proto, port.nodePort ?? port.port)
                    case .loadBalancer: port.protocolPort
                    }
                }
            } ?? [])
        }
    }
}
