import KeycardValues

/// Whether an ingress-isolated pod accepts connections from its own node (`spec.lab.nodeIngress`).
///
/// The NetworkPolicy API: "Traffic is allowed to a pod if there are no NetworkPolicies selecting the
/// pod (and cluster policy otherwise allows the traffic), OR if the traffic source is the pod's
/// local node, OR if the traffic matches at least one ingress rule ..." (NetworkPolicySpec.ingress,
/// https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).
/// Network plugins differ (docs/kubernetes-fidelity.md): `allow` follows the API text, `policy`
/// judges the node like any other source, by `ipBlock` on its address.
public enum NodeIngress: String, Hashable, Sendable, Codable, CaseIterable {
    /// The pod's own node always reaches it (the API text; kubelet probes).
    case allow
    /// The node is one more address: only an `ipBlock` peer (or a rule without peers) admits it.
    case policy
}

extension Cluster {
    /// The lab node names are `node-0` ... `node-(nodeCount-1)`; the index of `name`, or nil.
    public func nodeIndex(_ name: String) -> Int? {
        guard name.hasPrefix("node-"), let index = Int(name.dropFirst(5)), index >= 0, index < nodeCount, name == "node-\(index)"
        else { return nil }
        return index
    }

    /// The labels lab node `index` carries, as the kubelet sets them
    /// (https://kubernetes.io/docs/reference/labels-annotations-taints/): `kubernetes.io/hostname`
    /// (`node-N`), `kubernetes.io/os` (`linux`) and `kubernetes.io/arch` (`amd64`), with their
    /// `beta.` forms. ClusterNetworkPolicy `nodes` peers select nodes by them (network-policy-api's
    /// conformance selects `kubernetes.io/os: linux`).
    public static func nodeLabels(_ index: Int) -> Labels {
        var labels = labNodeLabels
        labels["kubernetes.io/hostname"] = "node-\(index)"
        return labels
    }

    /// The labels every lab node carries, whatever its index (`nodeLabels` adds the hostname).
    public static let labNodeLabels: Labels = [
        "kubernetes.io/os": "linux", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "beta.kubernetes.io/arch": "amd64",
    ]

    /// The addresses of the lab nodes whose labels `selector` matches (each node's InternalIP,
    /// `LabNetwork.nodeAddress`, the one address of its `status.addresses` in the lab), by index.
    public func nodeAddresses(selectedBy selector: LabelSelector) -> [IPv4] {
        (0..<nodeCount).filter { selector.matches(Self.nodeLabels($0)) }.map(LabNetwork.nodeAddress)
    }

    /// The node `pod` runs on, as `node-i`; nil when the lab placement is unknown.
    public func nodeName(ofPod pod: ObjectKey) -> String? {
        podNodes[pod].map { "node-\($0)" }
    }

    /// The local-node rule, in one place: the index of the node whose connections pod `key`
    /// accepts whatever policies select it — its own node, with `nodeIngress: allow` (the
    /// NetworkPolicy API's "OR if the traffic source is the pod's local node",
    /// NetworkPolicySpec.ingress) — or nil: with `policy`, or when the pod's node is unknown. The
    /// model (`PolicyEngine.localNodeVerdict`), the compiler (`PolicyCompiler.localNodeRule`) and
    /// `generate`'s proof (`PolicyGenerator.intends`) all ask it.
    public func admittedLocalNode(of key: ObjectKey) -> Int? {
        nodeIngress == .allow ? podNodes[key] : nil
    }

    /// Whether `destination` accepts `source` by the local-node rule (`admittedLocalNode`):
    /// `source` is the lab node the pod runs on, and `nodeIngress` is `allow`. A node reaching a
    /// pod on another node is not local; policies judge it by its address.
    public func localNodeAdmits(_ source: Endpoint, _ destination: Endpoint) -> Bool {
        guard case .node(let name) = source, case .pod(let pod) = destination, let index = nodeIndex(name) else { return false }
        return admittedLocalNode(of: pod) == index
    }
}
