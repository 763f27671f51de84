/// Host-network pods (`spec.hostNetwork: true`).
///
/// Such a pod runs in its node's network namespace: its `status.podIP` is the node's address and its
/// container ports are ports of the node. The NetworkPolicy API leaves them undefined ("NetworkPolicy
/// behaviour for hostNetwork pods is undefined", https://kubernetes.io/docs/concepts/services-networking/network-policies/
/// "Pod lifecycle" / "What you can't do"); the common behaviour, which keycard models
/// (docs/kubernetes-fidelity.md):
/// - no policy's `podSelector` isolates them: connections to them are the node's, unfiltered;
/// - no `podSelector` or `namespaceSelector` peer matches them; an `ipBlock` sees the node's address;
/// - their own connections are the node's: the local-node rule (`spec.lab.nodeIngress`) applies.
/// AdminNetworkPolicy likewise excludes host-networked pods from its pod selections.
extension Cluster {
    /// The source a connection from `endpoint` is judged as: a host-network pod is its node
    /// (`.node("node-i")`); any other endpoint, or a host-network pod whose node is unknown, is itself.
    public func networkSource(_ endpoint: Endpoint) -> Endpoint {
        guard case .pod(let key) = endpoint, pods[key]?.hostNetwork == true, let node = nodeName(ofPod: key) else {
            return endpoint
        }
        return .node(node)
    }

    /// Whether `key` names a present pod running in its node's network namespace.
    public func isHostNetwork(_ key: ObjectKey) -> Bool { pods[key]?.hostNetwork == true }
}
