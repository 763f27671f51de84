import KeycardValues

/// A `networking.k8s.io/v1` NetworkPolicy with every field of NetworkPolicySpec.
public struct NetworkPolicy: Hashable, Sendable, NamespacedObject {
    /// `spec.policyTypes` entries (NetworkPolicySpec): which directions the policy isolates.
    public enum PolicyType: String, Hashable, Sendable, CaseIterable {
        case ingress = "Ingress"
        case egress = "Egress"
    }

    public var namespace: String
    public var name: String
    public var podSelector: LabelSelector
    /// True when the manifest omitted `spec.podSelector` (or `spec`): the API server defaults it to
    /// the empty selector, every pod of the namespace. Kept so explanations can say so.
    public var podSelectorOmitted = false
    /// As written; nil when the field was omitted (see `effectivePolicyTypes`).
    public var policyTypes: [PolicyType]?
    /// The live value an update that writes no `policyTypes` keeps, when it differs from what the
    /// update's own rules would default to: the API server defaults the field once, when it is
    /// empty (`SetDefaults_NetworkPolicy`), and `kubectl apply`'s three-way merge leaves a field
    /// that neither the last applied nor the new manifest writes as it is ("defaulted fields are
    /// not re-defaulted", kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config).
    /// So egress rules added to a policy created without them stay switched off (`ClusterChange`
    /// sets this; nil otherwise).
    public var retainedPolicyTypes: Set<PolicyType>? = nil
    /// nil when `ingress` was omitted; `[]` when written as an empty list. Both allow nothing.
    public var ingress: [Rule]?
    public var egress: [Rule]?

    public init(
        namespace: String, name: String, podSelector: LabelSelector = .everything,
        policyTypes: [PolicyType]? = nil, ingress: [Rule]? = nil, egress: [Rule]? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.podSelector = podSelector
        self.policyTypes = policyTypes
        self.ingress = ingress
        self.egress = egress
    }

    /// The policy's types: as written, else as an earlier apply left them (`retainedPolicyTypes`),
    /// else inferred when omitted or empty (the API server defaults both alike) — Ingress always,
    /// Egress when the policy has at least one egress rule.
    public var effectivePolicyTypes: Set<PolicyType> {
        if let policyTypes, !policyTypes.isEmpty { return Set(policyTypes) }
        return retainedPolicyTypes ?? defaultedPolicyTypes
    }

    /// What `SetDefaults_NetworkPolicy` makes of an omitted or empty `policyTypes`.
    public var defaultedPolicyTypes: Set<PolicyType> { (egress?.isEmpty ?? true) ? [.ingress] : [.ingress, .egress] }

    /// `new` as the API server holds it after `kubectl apply` of it over `self`: a `policyTypes`
    /// that the last applied manifest (`self`'s) and `new` both leave out (or both write empty)
    /// keeps its live value (`retainedPolicyTypes`).
    public func updated(to new: NetworkPolicy) -> NetworkPolicy {
        var new = new
        guard new.policyTypes?.isEmpty ?? true, policyTypes == new.policyTypes else { return new }
        let live = effectivePolicyTypes
        new.retainedPolicyTypes = live == new.defaultedPolicyTypes ? nil : live
        return new
    }

    /// The rules that count for `direction`: none unless the policy has that type.
    public func rules(_ direction: PolicyType) -> [Rule] {
        guard effectivePolicyTypes.contains(direction) else { return [] }
        return (direction == .ingress ? ingress : egress) ?? []
    }

    /// One ingress or egress rule: peers (`from` / `to`) and ports.
    public struct Rule: Hashable, Sendable {
        /// nil or empty: every peer.
        public var peers: [Peer]?
        /// nil or empty: every port.
        public var ports: [Port]?

        public init(peers: [Peer]? = nil, ports: [Port]? = nil) {
            self.peers = peers
            self.ports = ports
        }

        /// Whether the rule admits hosts that are not pods: it names no peer (every source or
        /// destination, "If this field is empty or missing, this rule matches all sources", API
        /// reference) or an `ipBlock` (addresses, which selectors never are).
        public var opensBeyondPods: Bool { (peers ?? []).isEmpty || peers?.contains { $0.ipBlock != nil } == true }
    }

    /// A NetworkPolicyPeer: podSelector and namespaceSelector together mean AND; ipBlock stands alone.
    public struct Peer: Hashable, Sendable {
        public var podSelector: LabelSelector?
        public var namespaceSelector: LabelSelector?
        public var ipBlock: IPBlock?

        public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
            self.podSelector = podSelector
            self.namespaceSelector = namespaceSelector
            self.ipBlock = ipBlock
        }
    }

    /// A peer's `ipBlock`: `cidr` less every `except` block (NetworkPolicyPeer, API reference).
    public struct IPBlock: Hashable, Sendable {
        public var cidr: CIDR
        public var except: [CIDR]

        public init(cidr: CIDR, except: [CIDR] = []) {
            self.cidr = cidr
            self.except = except
        }

        /// Whether `address` lies in `cidr` and in none of the `except` blocks.
        public func contains(_ address: IPv4) -> Bool {
            cidr.contains(address) && !except.contains { $0.contains(address) }
        }
    }

    /// A NetworkPolicyPort. `port` nil: every port of the protocol.
    public struct Port: Hashable, Sendable {
        public enum Value: Hashable, Sendable {
            case number(Int)
            case name(String)
        }

        public var proto: TransportProtocol
        public var port: Value?
        public var endPort: Int?

        public init(proto: TransportProtocol = .tcp, port: Value? = nil, endPort: Int? = nil) {
            self.proto = proto
            self.port = port
            self.endPort = endPort
        }
    }
}
