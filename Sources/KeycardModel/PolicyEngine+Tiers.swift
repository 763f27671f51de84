import KeycardValues

/// A tier of the evaluation order (network-policy-api `spec.tier`): Admin, then NetworkPolicy,
/// then Baseline, then Kubernetes' default (allow).
public enum PolicyTier: String, Hashable, Sendable, CaseIterable, Codable {
    case admin = "Admin"
    case networkPolicy = "NetworkPolicy"
    case baseline = "Baseline"
    case defaultAllow = "Default"
}

/// One step of a side's walk through the tiers: which tier, what it said, and who said it.
/// Rendered `[Admin] Pass (ns-guard/delegate)`, `[NetworkPolicy] Allowed (shop/allow-web)`.
public struct TierStep: Hashable, Sendable, CustomStringConvertible {
    public enum Result: String, Hashable, Sendable, Codable {
        /// A ClusterNetworkPolicy rule's action.
        case accept = "Accept"
        case deny = "Deny"
        case pass = "Pass"
        /// The NetworkPolicy tier's final word on a pod its policies isolate.
        case allowed = "Allowed"
        case denied = "Denied"
    }

    public var tier: PolicyTier
    public var result: Result
    /// `policy/rule` (a ClusterNetworkPolicy and its rule's name or `ingress[i]`), or the
    /// NetworkPolicies (`ns/name`) that decided; nil for the default.
    public var by: String?
    /// The ClusterNetworkPolicy whose rule decided (nil for the NetworkPolicy tier and the default).
    public var policy: ClusterPolicyKey?
    /// The index of that rule in its direction's list.
    public var ruleIndex: Int?

    public var description: String { "[\(tier.rawValue)] \(result.rawValue)" + (by.map { " (\($0))" } ?? "") }
}

extension Array where Element == TierStep {
    /// `[Admin] Pass (ns-guard/delegate) -> [NetworkPolicy] Allowed (shop/allow-web)`.
    public var walkthrough: String { map(\.description).joined(separator: " -> ") }
}

extension PolicyEngine {
    /// One side judged through the tiers (docs/cluster-network-policy.md): the Admin tier's
    /// policies by priority, each one's rules in order, the first matching rule decides (Accept,
    /// Deny) or skips the rest of the tier (Pass); then the NetworkPolicy tier, final for a pod its
    /// policies isolate; then the Baseline tier likewise; then allow. A ClusterNetworkPolicy never
    /// isolates a pod by selecting it (no implicit deny). `hairpin`: the pod reaches itself
    /// through a Service (`hairpinVerdict`).
    func judgeTiers(
        _ direction: NetworkPolicy.PolicyType, pod: Pod, peer: Endpoint, destination: Endpoint, port: ProtocolPort,
        hairpin: Bool = false
    ) -> DirectionVerdict {
        var steps: [TierStep] = []
        if let step = decide(.admin, direction, pod: pod, peer: peer, destination: destination, port: port) {
            steps.append(step)
            if step.result != .pass { return Self.finish(step, steps) }
        }
        if !hairpin {
            var verdict = judgeNetworkPolicies(direction, pod: pod, peer: peer, destination: destination, port: port)
            if verdict.outcome == .allowed || verdict.outcome == .denied {
                let names = verdict.outcome == .allowed ? verdict.allowingRules.map(\.policy) : verdict.isolatingPolicies
                var seen: Set<ObjectKey> = []
                let by = names.filter { seen.insert($0).inserted }.map(\.description).joined(separator: ", ")
                steps.append(TierStep(tier: .networkPolicy, result: verdict.outcome == .allowed ? .allowed : .denied, by: by))
                verdict.tiers = steps
                return verdict
            }
        } else if !isolation.policies(for: pod, direction, in: cluster).policies.isEmpty {
            // A pod reaching itself through a Service: a NetworkPolicy that selects the pod lets its
            // own traffic through and, as for any selected pod, makes the final decision; a pod no
            // NetworkPolicy selects goes on to the Baseline tier (network-policy-api
            // clusternetworkpolicy_types.go, `Tier`: "Further evaluation only happens for Pods not
            // selected by a v1.NetworkPolicy").
            steps.append(TierStep(tier: .networkPolicy, result: .allowed, by: "the pod itself"))
            return DirectionVerdict(outcome: .selfTraffic, isolatingPolicies: [], allowingRules: [], tiers: steps)
        }
        if let step = decide(.baseline, direction, pod: pod, peer: peer, destination: destination, port: port) {
            steps.append(step)
            if step.result != .pass { return Self.finish(step, steps) }
        }
        guard !steps.isEmpty else {
            // No ClusterNetworkPolicy rule and no NetworkPolicy spoke: exactly as without tiers.
            return DirectionVerdict(outcome: .notIsolated, isolatingPolicies: [], allowingRules: [])
        }
        steps.append(TierStep(tier: .defaultAllow, result: .allowed))
        return DirectionVerdict(outcome: .notIsolated, isolatingPolicies: [], allowingRules: [], tiers: steps)
    }

    private static func finish(_ step: TierStep, _ steps: [TierStep]) -> DirectionVerdict {
        DirectionVerdict(outcome: step.result == .accept ? .allowed : .denied, isolatingPolicies: [], allowingRules: [], tiers: steps)
    }

    /// The first rule of `tier` that matches, in priority order (ties by name, so a run is
    /// repeatable; the API leaves equal priorities to the implementation).
    func decide(
        _ tier: ClusterNetworkPolicy.Tier, _ direction: NetworkPolicy.PolicyType, pod: Pod, peer: Endpoint,
        destination: Endpoint, port: ProtocolPort
    ) -> TierStep? {
        let policies = cluster.clusterPolicies.values
            .filter { $0.tier == tier && selects($0.subject, pod) }
            .sorted { ($0.priority, $0.key) < ($1.priority, $1.key) }
        let destinationPod = cluster.namedPortHolder(destination)
        for policy in policies {
            for (index, rule) in policy.rules(direction).enumerated()
            where matches(rule, direction, peer: peer, destinationPod: destinationPod, port: port) {
                let label = rule.name ?? "\(direction.rawValue.lowercased())[\(index)]"
                let result: TierStep.Result =
                    switch rule.action {
                    case .accept: .accept
                    case .deny: .deny
                    case .pass: .pass
                    }
                return TierStep(
                    tier: tier == .admin ? .admin : .baseline, result: result, by: "\(policy.key)/\(label)", policy: policy.key,
                    ruleIndex: index)
            }
        }
        return nil
    }

    /// Whether `subject` selects `pod`. A host-network pod never is a subject
    /// (network-policy-api clusternetworkpolicy_types.go, `ClusterNetworkPolicySubject`:
    /// host-networked pods are not included in subject selection): the model's judgement, the
    /// compiled tier chains (`tierRules`) and lint all ask here.
    public func selects(_ subject: ClusterNetworkPolicy.Subject, _ pod: Pod) -> Bool {
        guard !pod.hostNetwork, let namespace = cluster.namespaces[pod.namespace] else { return false }
        switch subject {
        case .namespaces(let selector): return selector.matches(namespace.labels)
        case .pods(let namespaces, let pods): return namespaces.matches(namespace.labels) && pods.matches(pod.labels)
        }
    }

    /// A rule matches when one of its peers and one of its protocols match.
    func matches(
        _ rule: ClusterNetworkPolicy.Rule, _ direction: NetworkPolicy.PolicyType, peer: Endpoint, destinationPod: Pod?,
        port: ProtocolPort
    ) -> Bool {
        guard rule.peers.contains(where: { matches($0, action: rule.action, peer) }) else { return false }
        guard let protocols = rule.protocols else { return true }
        return protocols.contains { Self.matches($0, port, destinationPod) }
    }

    /// Whether a peer selects the endpoint. `nodes` (egress only) selects nodes by their labels
    /// (`Cluster.nodeLabels`) and matches their addresses ("It selects the nodeIPs as the peer type
    /// by matching on the IPs present in the node.Status.Addresses field of the node",
    /// `ClusterNetworkPolicyEgressPeer.Nodes`): a lab node and the host-network pods on it, never a
    /// pod on the pod network. `domainNames` in a Deny or Pass rule, which the API supports only
    /// for Accept, fails closed as the API asks: it matches everything.
    public func matches(_ peer: ClusterNetworkPolicy.Peer, action: ClusterNetworkPolicy.Action, _ endpoint: Endpoint) -> Bool {
        func pod() -> (Pod, Namespace)? {
            guard case .pod(let key) = endpoint, let pod = cluster.pods[key], !pod.hostNetwork,
                let namespace = cluster.namespaces[pod.namespace]
            else {
                return nil
            }
            return (pod, namespace)
        }
        switch peer {
        case .namespaces(let selector):
            return pod().map { selector.matches($0.1.labels) } ?? false
        case .pods(let namespaces, let pods):
            return pod().map { namespaces.matches($0.1.labels) && pods.matches($0.0.labels) } ?? false
        case .networks(let cidrs):
            guard let address = cluster.address(of: endpoint) else { return false }
            return cidrs.contains { $0.family == .ipv4 && $0.contains(address) }
        case .nodes(let selector):
            guard let address = cluster.address(of: endpoint) else { return false }
            return cluster.nodeAddresses(selectedBy: selector).contains(address)
        case .domainNames(let names):
            guard action == .accept else { return true }
            guard let address = cluster.address(of: endpoint) else { return false }
            let answered = domainNames.names(for: address, in: cluster)
            return names.contains { pattern in
                // A wildcard meets a Service's endpoint names only if a client asked them.
                (pattern.hasPrefix("*.") ? answered.wildcard : answered.exact).contains { Self.domain(pattern, matches: $0) }
            }
        }
    }

    /// The endpoint names under Services that have a ClusterIP (`10-244-0-6.web.ns.svc...`): a
    /// wildcard `domainNames` entry does not select through them. A client reaches such a Service
    /// by its name, which answers the ClusterIP, and the policy then sees the backend's address:
    /// "ClusterIP Services can not be selected using their generated DNS record" (network-policy-api
    /// NPEP-133, "Expected Behavior"); `*.ns.svc.cluster.local` would otherwise select every
    /// ClusterIP Service's backends through names no client asked. An exact entry naming an
    /// endpoint still matches: whoever wrote it resolves that very name ("as long as an A record
    /// exists mapping my-hostname to 1.2.3.4, the implementation should allow traffic to 1.2.3.4").
    static func clusterIPEndpointNames(_ cluster: Cluster, domain: String) -> Set<String> {
        var names: Set<String> = []
        for service in ServiceDNSInput.all(in: cluster) {
            guard case .clusterIP = service.kind else { continue }
            var records = DNSRecords(domain: domain)
            records.add(service)
            let own = DNSRecords.serviceName(service.name, namespace: service.namespace, domain: domain)
            names.formUnion(records.addresses.keys.filter { $0 != own })
        }
        return names
    }

    /// `domainNames` matching: exact (a trailing dot ignored), or `*.suffix` for one or more
    /// whole labels before `suffix`.
    public static func domain(_ pattern: String, matches name: String) -> Bool {
        func normal(_ text: String) -> String { (text.hasSuffix(".") ? String(text.dropLast()) : text).lowercased() }
        let pattern = normal(pattern)
        let name = normal(name)
        if pattern.hasPrefix("*.") {
            let suffix = String(pattern.dropFirst(1))
            return name.hasSuffix(suffix) && name.count > suffix.count
        }
        return pattern == name
    }

    /// Whether a `protocols` entry matches; a named port resolves on the destination pod.
    public static func matches(_ entry: ClusterNetworkPolicy.ProtocolMatch, _ port: ProtocolPort, _ destination: Pod?) -> Bool {
        switch entry {
        case .port(let proto, let range): return proto == port.proto && (range?.contains(port.port) ?? true)
        case .namedPort(let name): return destination?.resolve(portName: name, proto: port.proto).contains(port.port) ?? false
        }
    }

    /// A pod reaching itself through a Service IP: subject to ClusterNetworkPolicy (it is
    /// enforced outside the pod, network-policy-api api-overview "hairpin"), while a NetworkPolicy
    /// that isolates the pod keeps letting its own traffic through (`judgeTiers`). nil when no
    /// ClusterNetworkPolicy exists.
    func hairpinVerdict(_ pod: Pod, port: ProtocolPort, source: Endpoint, destination: Endpoint) -> Verdict? {
        guard !cluster.clusterPolicies.isEmpty else { return nil }
        let egress = judgeTiers(.egress, pod: pod, peer: destination, destination: destination, port: port, hairpin: true)
        let ingress = judgeTiers(.ingress, pod: pod, peer: source, destination: destination, port: port, hairpin: true)
        return Verdict(from: source, to: destination, port: port, egress: egress, ingress: ingress)
    }
}

/// One ClusterNetworkPolicy rule as it applies to one pod: its policy, direction, index in the
/// direction's list, and the rule.
public struct TierRule: Sendable {
    public var policy: ClusterNetworkPolicy
    public var direction: NetworkPolicy.PolicyType
    public var index: Int
    public var rule: ClusterNetworkPolicy.Rule

    /// `policy/rule-name`, or `policy/ingress[i]` for an unnamed rule: how reports name it.
    public var label: String { "\(policy.key)/\(rule.name ?? "\(direction.rawValue.lowercased())[\(index)]")" }
}

extension PolicyEngine {
    /// The rules of `tier` that apply to `pod` in `direction`, in evaluation order (policies by
    /// priority then name, rules as written): what a compiled tier chain walks.
    public func tierRules(_ tier: ClusterNetworkPolicy.Tier, _ direction: NetworkPolicy.PolicyType, for pod: Pod) -> [TierRule] {
        cluster.clusterPolicies.values
            .filter { $0.tier == tier && selects($0.subject, pod) }
            .sorted { ($0.priority, $0.key) < ($1.priority, $1.key) }
            .flatMap { policy in
                policy.rules(direction).enumerated().map {
                    TierRule(policy: policy, direction: direction, index: $0.offset, rule: $0.element)
                }
            }
    }
}
