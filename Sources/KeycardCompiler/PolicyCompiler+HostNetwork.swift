import KeycardModel
import KeycardRuleset
import KeycardValues

/// Host-network pods in the kernel (KeycardModel/HostNetwork.swift). They live in their node's
/// namespace on its address and no policy isolates them, so no table is theirs; what changes is
/// the path of connections a pod opens to its own node's address: they end in the node
/// namespace's `input` hook and never cross its `forward` hook, where node placement judges
/// egress. Pod placement judges egress in the pod's own `output` chain and needs nothing; pre-DNAT
/// node placement judges it on `prerouting`, which every packet from a pod crosses.
extension PolicyCompiler {
    /// In node placement (post-DNAT), the node table's `input` chain sending connections from its
    /// isolated pods to the node itself (a host-network pod's port) through the same egress
    /// dispatch as `forward`; nil otherwise, and when the lab has no host-network pod (the table
    /// keeps its old shape; the pods' addresses never change, so the answer holds all scenario long).
    func toNodeChain(_ cluster: Cluster) -> Chain? {
        guard placement == .node, egressPriority == 0, cluster.hasHostNetworkAddresses else { return nil }
        return podDispatchChain("to-node", hook: .input, by: .saddr, map: "eg-pods", comment: "egress of isolated pods to their own node")
    }
}

extension Cluster {
    /// Whether some pod of the lab (present now or not) has its node's address: a host-network pod.
    var hasHostNetworkAddresses: Bool {
        guard !addresses.isEmpty else { return false }
        let nodes = Set((0..<nodeCount).map(LabNetwork.nodeAddress))
        return addresses.values.contains { nodes.contains($0) }
    }
}
