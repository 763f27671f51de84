import KeycardValues

/// What a connection meets: allowed, denied by the network (NetworkPolicy), or — with the mesh —
/// refused by mutual TLS (PeerAuthentication or an untrusted certificate) or by an
/// AuthorizationPolicy (spec mesh.md 2.5). NetworkPolicy alone only ever says `allow` or `deny`.
public enum Decision: String, Hashable, Sendable, Codable, CaseIterable {
    case allow
    case deny
    case denyMTLS = "deny-mtls"
    case denyRBAC = "deny-rbac"

    /// Whether the connection reaches the application.
    public var allows: Bool { self == .allow }
}

/// Names one rule of one policy, and which of its peers and ports matched.
public struct RuleRef: Hashable, Sendable, CustomStringConvertible {
    public var policy: ObjectKey
    public var direction: NetworkPolicy.PolicyType
    public var ruleIndex: Int
    /// nil when the rule has no peers (every peer).
    public var peerIndex: Int?
    /// nil when the rule has no ports (every port).
    public var portIndex: Int?

    public var description: String {
        let field = direction == .ingress ? "from" : "to"
        let peer = peerIndex.map { "\(field)[\($0)]" } ?? "any peer"
        let port = portIndex.map { "ports[\($0)]" } ?? "any port"
        return "\(policy) \(direction.rawValue.lowercased())[\(ruleIndex)] \(peer), \(port)"
    }
}

/// How one side of a connection judged it.
public struct DirectionVerdict: Hashable, Sendable {
    public enum Outcome: String, Hashable, Sendable {
        /// The pod talks to itself: never leaves its namespace.
        case selfTraffic = "self"
        /// No policy of this direction selects the pod.
        case notIsolated = "not isolated"
        /// The endpoint is not a pod: Kubernetes policy does not apply to it.
        case notApplicable = "not a pod"
        /// The source is the pod's own node, which the NetworkPolicy API always lets in
        /// (`spec.lab.nodeIngress: allow`, NodeSource.swift).
        case localNode = "local node"
        case allowed
        case denied
    }

    public var outcome: Outcome
    /// The policies that select the pod for this direction (its isolation).
    public var isolatingPolicies: [ObjectKey]
    /// Every rule that allows the connection (policies are additive).
    public var allowingRules: [RuleRef]
    /// With ClusterNetworkPolicies: the tiers this side went through, in order (empty without).
    public var tiers: [TierStep] = []

    public var permits: Bool { outcome != .denied }
}

/// The model's answer for one connection, with its reasons.
public struct Verdict: Hashable, Sendable {
    public var from: Endpoint
    public var to: Endpoint
    public var port: ProtocolPort
    /// The source's egress side.
    public var egress: DirectionVerdict
    /// The destination's ingress side.
    public var ingress: DirectionVerdict

    /// Allow only when the source's egress and the destination's ingress both permit.
    public var decision: Decision { egress.permits && ingress.permits ? .allow : .deny }

    /// An ICMP cell a NetworkPolicy judged: the NetworkPolicy API defines only TCP, UDP and SCTP, so
    /// what an isolating policy does to ICMP is the network plugin's choice. keycard follows the
    /// common one (only a rule without `ports` admits ICMP) and marks the cell. A side that a
    /// ClusterNetworkPolicy rule decided is not marked: that API defines ICMP matching (`networks`
    /// match ICMP too, a rule without `protocols` matches any protocol; network-policy-api
    /// clusternetworkpolicy_types.go), and such a side has no isolating NetworkPolicy.
    public var implementationDefined: Bool {
        port.proto == .icmp && [egress, ingress].contains { !$0.isolatingPolicies.isEmpty || $0.outcome == .localNode }
    }
}
