import KeycardModel
import KeycardRuleset

/// What one compilation computes once and every table reuses: the sorted pods, each policy rule's
/// peers (the same for every pod and node that carries the rule), the policies of each scope.
final class CompileCache {
    let cluster: Cluster
    let engine: PolicyEngine
    let sortedPods: [Pod]
    private var peers: [PeerKey: Peers] = [:]
    private var scoped: [ScopeKey: [NetworkPolicy]] = [:]

    private struct PeerKey: Hashable {
        var policy: ObjectKey
        var direction: NetworkPolicy.PolicyType
        var index: Int
    }

    private struct ScopeKey: Hashable {
        var namespace: String?
        var direction: NetworkPolicy.PolicyType
    }

    init(_ cluster: Cluster) {
        self.cluster = cluster
        engine = PolicyEngine(cluster)
        sortedPods = cluster.sortedPods
    }

    /// What a rule's peers stand for.
    struct Peers {
        /// The rule names no peer: every address.
        var all: Bool
        /// The pods it selects (every pod when `all`), ipBlocks included when they hold a pod's address.
        var pods: [Pod]
        /// Those pods' addresses (host order), sorted.
        var podAddresses: [UInt32]
        /// Its ipBlocks minus their excepts, as inclusive host-order ranges (`0...max` when `all`).
        var ranges: [ClosedRange<UInt32>]
    }

    /// The peers of a rule: computed once per compilation, shared by every pod the rule protects.
    func peers(of rule: NetworkPolicy.Rule, _ index: Int, in policy: NetworkPolicy, _ direction: NetworkPolicy.PolicyType) -> Peers {
        let key = PeerKey(policy: policy.key, direction: direction, index: index)
        if let known = peers[key] { return known }
        let list = rule.peers ?? []
        let pods = list.isEmpty ? sortedPods : sortedPods.filter { pod in list.contains { engine.matches($0, of: policy, .pod(pod.key)) } }
        var ranges = AddressRanges()
        for peer in list { if let block = peer.ipBlock { ranges.add(block) } }
        let result = Peers(
            all: list.isEmpty, pods: pods,
            podAddresses: pods.compactMap { cluster.addresses[$0.key]?.value }.sorted(),
            ranges: list.isEmpty ? [0...UInt32.max] : ranges.ranges)
        peers[key] = result
        return result
    }

    /// Policies with `direction` among their types, of `namespace` (nil: of the whole cluster), sorted.
    func policies(in namespace: String?, _ direction: NetworkPolicy.PolicyType) -> [NetworkPolicy] {
        let key = ScopeKey(namespace: namespace, direction: direction)
        if let known = scoped[key] { return known }
        let result = cluster.policies.values
            .filter { (namespace == nil || $0.namespace == namespace) && $0.effectivePolicyTypes.contains(direction) }
            .sorted { $0.key < $1.key }
        scoped[key] = result
        return result
    }
}
