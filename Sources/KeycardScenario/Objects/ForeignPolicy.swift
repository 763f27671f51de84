/// A network policy of another CNI among the input (Cilium, Calico, Antrea): keycard skips it
/// (it models the Kubernetes NetworkPolicy API, ClusterNetworkPolicy and Istio's policies), but in
/// a cluster running that CNI it isolates pods and allows or denies connections besides them, so
/// keycard's verdicts may differ there. `keycard lint` reports each (`foreign-network-policy`).
public struct ForeignPolicy: Hashable, Sendable {
    /// `CiliumNetworkPolicy`, `GlobalNetworkPolicy`...
    public var kind: String
    public var apiVersion: String
    /// The CNI whose policy it is: Cilium, Calico or Antrea.
    public var cni: String
    /// Its namespace; nil for a cluster-wide policy.
    public var namespace: String?
    public var name: String
    /// The document's place.
    public var location: SourceLocation

    /// `Kind ns/name` or `Kind name`.
    public var description: String { "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name)" }

    /// The CNI and scope of `kind` in `apiVersion`'s group, when it is such a policy:
    /// - Cilium (`cilium.io`): CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy
    ///   (https://docs.cilium.io/en/stable/network/kubernetes/policy/);
    /// - Calico (`projectcalico.org`, and `crd.projectcalico.org` as its CRDs are stored):
    ///   NetworkPolicy, GlobalNetworkPolicy (https://docs.tigera.io/calico/latest/reference/resources/);
    /// - Antrea (`crd.antrea.io`): NetworkPolicy, ClusterNetworkPolicy
    ///   (https://antrea.io/docs/main/docs/antrea-network-policy/).
    /// Staged policies (Calico's StagedNetworkPolicy...) enforce nothing and are not listed.
    static func kind(_ kind: String, apiVersion: String) -> (cni: String, namespaced: Bool)? {
        let group = apiVersion.split(separator: "/").first.map(String.init) ?? ""
        switch (group, kind) {
        case ("cilium.io", "CiliumNetworkPolicy"): return ("Cilium", true)
        case ("cilium.io", "CiliumClusterwideNetworkPolicy"): return ("Cilium", false)
        case ("projectcalico.org", "NetworkPolicy"), ("crd.projectcalico.org", "NetworkPolicy"): return ("Calico", true)
        case ("projectcalico.org", "GlobalNetworkPolicy"), ("crd.projectcalico.org", "GlobalNetworkPolicy"): return ("Calico", false)
        case ("crd.antrea.io", "NetworkPolicy"): return ("Antrea", true)
        case ("crd.antrea.io", "ClusterNetworkPolicy"): return ("Antrea", false)
        default: return nil
        }
    }
}
