import KeycardModel
import KeycardValues

extension FlowLog {
    /// The first node-local identity: Cilium allocates CIDR identities in its local scope,
    /// `LocalIdentityFlag` (1 << 24) plus 1 upward (cilium `pkg/identity/numericidentity.go`;
    /// "Security Identities", docs.cilium.io: 16777217–33554431).
    public static let firstCIDRIdentity = (1 << 24) + 1

    /// The IPv4 prefixes the cluster's policies select at this moment, each once, masked, sorted by
    /// network address and then by length (a block before the blocks inside it): every NetworkPolicy
    /// `ipBlock.cidr` and `except` entry and every ClusterNetworkPolicy `networks` entry. Cilium's
    /// policy engine turns each into a prefix of its ipcache with a CIDR identity of its own
    /// (cilium/cilium#14427, #14477: an `except` block gets its identity too); `/0` is no such
    /// prefix, as Cilium names the whole world `reserved:world`.
    public static func selectedPrefixes(_ cluster: Cluster) -> [CIDR] {
        var blocks: [CIDR] = []
        for policy in cluster.policies.values {
            for rule in (policy.ingress ?? []) + (policy.egress ?? []) {
                for block in (rule.peers ?? []).compactMap(\.ipBlock) { blocks += [block.cidr] + block.except }
            }
        }
        for policy in cluster.clusterPolicies.values {
            for rule in policy.ingress + policy.egress {
                for case .networks(let cidrs) in rule.peers { blocks += cidrs }
            }
        }
        var seen = Set<String>()
        return blocks.filter { $0.family == .ipv4 && $0.prefixLength > 0 }
            .map { CIDR.ipv4(IPv4($0.network), $0.prefixLength) }
            .filter { seen.insert($0.text).inserted }
            .sorted { ($0.network, $0.prefixLength) < ($1.network, $1.prefixLength) }
    }

    /// How Hubble names an address outside the pod network and the nodes: Cilium's datapath looks
    /// the address up in its ipcache by longest prefix match, so it carries the CIDR identity of the
    /// longest selected prefix holding it (`selectedPrefixes`), labelled as cilium
    /// `pkg/labels/cidr.go` `GetCIDRLabels` labels it in an IPv4-only cluster: `cidr:PREFIX` and
    /// `reserved:world` (recent Cilium writes the prefix alone, no longer every prefix around it);
    /// an address no selected prefix holds is `reserved:world` (identity 2). Cilium numbers local
    /// identities in the order it allocates them, so a real node's numbers are its own; keycard
    /// numbers them in `selectedPrefixes` order from `firstCIDRIdentity`, the same on every run.
    static func outsideEndpoint(_ address: IPv4?, _ cluster: Cluster) -> HubbleFlow.Endpoint {
        let prefixes = address == nil ? [] : selectedPrefixes(cluster)
        let holding = prefixes.indices.filter { address.map(prefixes[$0].contains) == true }
        guard let index = holding.max(by: { prefixes[$0].prefixLength < prefixes[$1].prefixLength }) else {
            return HubbleFlow.Endpoint(identity: worldIdentity, labels: ["reserved:world"])
        }
        return HubbleFlow.Endpoint(identity: firstCIDRIdentity + index, labels: ["cidr:\(prefixes[index].text)", "reserved:world"])
    }
}
