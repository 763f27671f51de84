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

extension Cluster {
    /// The pod a policy's named port is resolved on for a connection to `destination`: a pod off
    /// the host network itself; for a host-network pod, or its node, every host-network pod of
    /// that node at once (their ports together, in pod order). They share one address: a packet to
    /// `node:9100` is the same whichever of them a probe names, and an `ipBlock` rule with
    /// `port: metrics` allows it wherever one of them names 9100 `metrics` (as the compiled rules
    /// do); nil for anything else, on which no named port resolves.
    public func namedPortHolder(_ destination: Endpoint) -> Pod? {
        let node: Int
        var base: Pod?
        switch destination {
        case .pod(let key):
            guard let pod = pods[key] else { return nil }
            guard pod.hostNetwork, let index = podNodes[key] else { return pod }
            (node, base) = (index, pod)
        case .node(let name):
            guard let index = nodeIndex(name) else { return nil }
            node = index
        default:
            return nil
        }
        let hostPods = pods.values.filter { $0.hostNetwork && podNodes[$0.key] == node }.sorted { $0.key < $1.key }
        guard var holder = base ?? hostPods.first else { return nil }
        holder.ports = hostPods.flatMap(\.ports)
        return holder
    }
}
