import KeycardValues

/// Kubernetes NetworkPolicy semantics over a `Cluster`.
///
/// A connection from S to D on a port is allowed when S's egress permits it (S not isolated for
/// egress, or some egress rule of a policy selecting S matches D and the port) and D's ingress
/// permits it (likewise with ingress rules matching S). Policies are additive; replies of an
/// allowed connection are allowed (connection tracking), so only the opening direction is judged.
public struct PolicyEngine: Sendable {
    public let cluster: Cluster
    let isolation = IsolationIndex()
    let domainNames = DomainNameIndex()

    public init(_ cluster: Cluster) { self.cluster = cluster }

    /// The verdict on a connection opened from `source` to `destination` on `port`: through a Service,
    /// node port or load balancer the backend's ingress judges the translated address and targetPort (as
    /// kube-proxy DNATs before filtering); egress and ingress are judged by the cluster tiers
    /// (ClusterNetworkPolicy Admin, NetworkPolicy, Baseline) in that order.
    public func evaluate(from source: Endpoint, to destination: Endpoint, port: ProtocolPort) -> Verdict {
        if case .service(let key, let backend) = destination {
            if case .external = source { return Self.unroutable(from: source, to: destination, port: port) }
            return evaluate(from: source, toService: key, backend: backend, port: port)
        }
        if case .exposed(let key, let entry, let backend) = destination {
            return evaluate(from: source, toExposed: key, entry: entry, backend: backend, port: port)
        }
        if case .pod = source, source == destination {
            let same = DirectionVerdict(outcome: .selfTraffic, isolatingPolicies: [], allowingRules: [])
            return Verdict(from: source, to: destination, port: port, egress: same, ingress: same)
        }
        // A host-network pod's connections are its node's (HostNetwork.swift).
        let sender = cluster.networkSource(source)
        if var verdict = localNodeVerdict(from: sender, to: destination, port: port) {
            verdict.from = source
            return verdict
        }
        let egress = judge(.egress, pod: sender, peer: destination, destination: destination, port: port)
        let ingress = judge(.ingress, pod: destination, peer: sender, destination: destination, port: port)
        return Verdict(from: source, to: destination, port: port, egress: egress, ingress: ingress)
    }

    /// Judges one side: `pod` is the side whose policies count, `peer` the other end.
    private func judge(
        _ direction: NetworkPolicy.PolicyType, pod endpoint: Endpoint, peer: Endpoint,
        destination: Endpoint, port: ProtocolPort
    ) -> DirectionVerdict {
        guard case .pod(let key) = endpoint, let pod = cluster.pods[key] else {
            return DirectionVerdict(outcome: .notApplicable, isolatingPolicies: [], allowingRules: [])
        }
        // Neither NetworkPolicy nor cluster tiers select a host-network pod: the node's port is open.
        if pod.hostNetwork { return DirectionVerdict(outcome: .notIsolated, isolatingPolicies: [], allowingRules: []) }
        // Cluster administrators' tiers wrap the NetworkPolicy tier (PolicyEngine+Tiers.swift).
        if !cluster.clusterPolicies.isEmpty {
            return judgeTiers(direction, pod: pod, peer: peer, destination: destination, port: port)
        }
        return judgeNetworkPolicies(direction, pod: pod, peer: peer, destination: destination, port: port)
    }

    /// The NetworkPolicy tier for `pod`: not isolated, or allowed / denied by its policies' rules.
    func judgeNetworkPolicies(
        _ direction: NetworkPolicy.PolicyType, pod: Pod, peer: Endpoint, destination: Endpoint, port: ProtocolPort
    ) -> DirectionVerdict {
        let isolating = isolation.policies(for: pod, direction, in: cluster)
        guard !isolating.policies.isEmpty else {
            return DirectionVerdict(outcome: .notIsolated, isolatingPolicies: [], allowingRules: [])
        }
        let destinationPod = cluster.namedPortHolder(destination)
        var allowing: [RuleRef] = []
        for policy in isolating.policies {
            for (ruleIndex, rule) in policy.rules(direction).enumerated() {
                guard let peerIndex = matchingPeer(rule, of: policy, peer),
                    let portIndex = matchingPort(rule, port, destinationPod)
                else { continue }
                allowing.append(
                    RuleRef(
                        policy: policy.key, direction: direction, ruleIndex: ruleIndex,
                        peerIndex: peerIndex.index, portIndex: portIndex.index))
            }
        }
        return DirectionVerdict(
            outcome: allowing.isEmpty ? .denied : .allowed,
            isolatingPolicies: isolating.keys, allowingRules: allowing)
    }

    /// The first peer of `rule` that matches, `.some(nil)` when the rule has no peers.
    func matchingPeer(_ rule: NetworkPolicy.Rule, of policy: NetworkPolicy, _ peer: Endpoint) -> Match? {
        guard let peers = rule.peers, !peers.isEmpty else { return Match(index: nil) }
        return peers.firstIndex { matches($0, of: policy, peer) }.map { Match(index: $0) }
    }

    private func matchingPort(_ rule: NetworkPolicy.Rule, _ port: ProtocolPort, _ destination: Pod?) -> Match? {
        guard let ports = rule.ports, !ports.isEmpty else { return Match(index: nil) }
        return ports.firstIndex { Self.matches($0, port, destination) }.map { Match(index: $0) }
    }

    /// Whether `peer` of `policy` selects the endpoint.
    public func matches(_ peer: NetworkPolicy.Peer, of policy: NetworkPolicy, _ endpoint: Endpoint) -> Bool {
        if let block = peer.ipBlock {
            return cluster.address(of: endpoint).map(block.contains) ?? false
        }
        // A host-network pod is its node to selectors: no podSelector or namespaceSelector matches it.
        guard case .pod(let key) = endpoint, let pod = cluster.pods[key], !pod.hostNetwork else { return false }
        if let namespaceSelector = peer.namespaceSelector {
            guard let namespace = cluster.namespaces[pod.namespace], namespaceSelector.matches(namespace.labels)
            else { return false }
        } else if pod.namespace != policy.namespace {
            return false
        }
        return peer.podSelector?.matches(pod.labels) ?? true
    }

    /// Whether a policy port matches, resolving a named port against the destination pod.
    public static func matches(_ entry: NetworkPolicy.Port, _ port: ProtocolPort, _ destination: Pod?) -> Bool {
        guard entry.proto == port.proto else { return false }
        switch entry.port {
        case nil: return true
        case .number(let first): return port.port >= first && port.port <= (entry.endPort ?? first)
        case .name(let name): return destination?.resolve(portName: name, proto: port.proto).contains(port.port) ?? false
        }
    }

    struct Match { var index: Int? }
}
