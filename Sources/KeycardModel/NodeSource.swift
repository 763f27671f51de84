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

    /// The node `pod` runs on, as `node-i`; nil when the lab placement is unknown.
    public func nodeName(ofPod pod: ObjectKey) -> String? {
        podNodes[pod].map { "node-\($0)" }
    }

    /// Whether `source` is `destination`'s own node: the one source the local-node rule concerns.
    /// A node reaching a pod on another node is not local; policies judge it by its address.
    public func isLocalNode(_ source: Endpoint, of destination: Endpoint) -> Bool {
        guard case .node(let name) = source, case .pod(let pod) = destination, let index = nodeIndex(name) else { return false }
        return podNodes[pod] == index
    }
}
