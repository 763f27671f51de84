import KeycardValues

/// A `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy (cluster-scoped): cluster
/// administrators' rules in the Admin tier (before NetworkPolicy) or the Baseline tier (after it).
/// Types and rules: kubernetes-sigs/network-policy-api `apis/v1alpha2/clusternetworkpolicy_types.go`;
/// semantics: docs/cluster-network-policy.md. v1alpha1 AdminNetworkPolicy and
/// BaselineAdminNetworkPolicy are converted to this type (`origin` remembers which).
public struct ClusterNetworkPolicy: Hashable, Sendable {
    /// `spec.tier`: where the policy sits around the NetworkPolicy tier.
    public enum Tier: String, Hashable, Sendable, CaseIterable, Codable {
        case admin = "Admin"
        case baseline = "Baseline"
    }

    /// A rule's `action`.
    public enum Action: String, Hashable, Sendable, CaseIterable, Codable {
        /// Accepts the connection (and its replies); no further rule of this direction is read.
        case accept = "Accept"
        /// Drops the connection; no further rule is read.
        case deny = "Deny"
        /// Skips the rest of this tier; evaluation goes on in the next tier.
        case pass = "Pass"
    }

    /// The kind the policy was written as (v1alpha1 kinds are converted, with a warning).
    public enum Origin: String, Hashable, Sendable, CaseIterable, Codable {
        case clusterNetworkPolicy = "ClusterNetworkPolicy"
        case adminNetworkPolicy = "AdminNetworkPolicy"
        case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"

        /// Its place in `allCases`: the order keys of equal priority sort in.
        var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    /// `spec.subject` (exactly one of `namespaces`, `pods`); host-networked pods are never subjects.
    public enum Subject: Hashable, Sendable {
        /// Every pod of the namespaces the selector selects (`{}`: every namespace).
        case namespaces(LabelSelector)
        /// Pods selected by `pods` in namespaces selected by `namespaces` (AND).
        case pods(namespaces: LabelSelector, pods: LabelSelector)
    }

    /// One entry of `from` (ingress: namespaces, pods) or `to` (egress: also networks, nodes,
    /// domainNames). Exactly one field is set.
    public enum Peer: Hashable, Sendable {
        case namespaces(LabelSelector)
        case pods(namespaces: LabelSelector, pods: LabelSelector)
        /// CIDRs; cluster-internal addresses (pods) match them too.
        case networks([CIDR])
        /// Experimental, egress only: the addresses of the nodes whose labels the selector
        /// matches (`Cluster.nodeLabels`), so the nodes and their host-network pods.
        case nodes(LabelSelector)
        /// Experimental, Accept rules only: destinations named by DNS.
        case domainNames([String])
    }

    /// One entry of `protocols`: a protocol with an optional destination port or range, or a
    /// named container port of the destination pod.
    public enum ProtocolMatch: Hashable, Sendable {
        /// `tcp|udp|sctp: {destinationPort: {number}|{range}}`; nil ports: every port.
        case port(TransportProtocol, ClosedRange<Int>?)
        /// `destinationNamedPort`: the destination pod's container port of that name (any protocol).
        case namedPort(String)
    }

    /// One ingress or egress rule, read in written order.
    public struct Rule: Hashable, Sendable {
        /// `name` (optional, up to 100 characters): how reports name the rule.
        public var name: String?
        public var action: Action
        /// `from` or `to`: at least one; any one matching is a match.
        public var peers: [Peer]
        /// nil when `protocols` was omitted: every protocol and port.
        public var protocols: [ProtocolMatch]?

        public init(name: String? = nil, action: Action, peers: [Peer], protocols: [ProtocolMatch]? = nil) {
            self.name = name
            self.action = action
            self.peers = peers
            self.protocols = protocols
        }
    }

    public var name: String
    public var tier: Tier
    /// 0–1000; lower values are evaluated first within the tier.
    public var priority: Int
    public var subject: Subject
    public var ingress: [Rule]
    public var egress: [Rule]
    public var origin: Origin

    public init(
        name: String, tier: Tier, priority: Int, subject: Subject, ingress: [Rule] = [], egress: [Rule] = [],
        origin: Origin = .clusterNetworkPolicy
    ) {
        self.name = name
        self.tier = tier
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
        self.origin = origin
    }

    /// The cluster's key: the kind as written and the name (an ANP and a BANP may share a name).
    public var key: ClusterPolicyKey { ClusterPolicyKey(origin: origin, name: name) }

    /// The rules of one direction.
    public func rules(_ direction: NetworkPolicy.PolicyType) -> [Rule] { direction == .ingress ? ingress : egress }
}

/// Names a cluster-scoped policy: its kind as written and its name.
public struct ClusterPolicyKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var origin: ClusterNetworkPolicy.Origin
    public var name: String

    public init(origin: ClusterNetworkPolicy.Origin = .clusterNetworkPolicy, name: String) {
        self.origin = origin
        self.name = name
    }

    /// The name alone for a ClusterNetworkPolicy; `AdminNetworkPolicy/name` for a converted one.
    public var description: String { origin == .clusterNetworkPolicy ? name : "\(origin.rawValue)/\(name)" }

    /// v1alpha2 policies before converted v1alpha1 ones (so a BaselineAdminNetworkPolicy, at
    /// priority 1000, comes after every v1alpha2 Baseline policy of that priority), then by name.
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.origin.rank, lhs.name) < (rhs.origin.rank, rhs.name) }
}
