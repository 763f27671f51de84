import KeycardModel
import KeycardRuleset
import KeycardValues

/// The local-node rule in the kernel (`spec.lab.nodeIngress`, NodeSource.swift). A node's own
/// connections to its pods leave from the node's address (`LabNetwork.nodeAddress`) through the
/// node namespace's `output` hook, never its `forward` hook:
/// - pod placement judges them in the pod's `input` chain like any packet: with `allow`, the pod's
///   ingress base chain accepts its own node's address before any tier (`localNodeRule`); with
///   `policy`, nothing is added and the node meets the pod's rules as an address;
/// - node placement judges ingress on `forward`, which these connections never cross, so `allow`
///   needs nothing; with `policy`, an `output` chain sends them through the same per-pod ingress
///   dispatch (`localNodeChain`).
/// A node reaching a pod on another node arrives through the router: judged by its address in
/// both placements, whatever the setting.
extension PolicyCompiler {
    /// With `allow`, the pod's ingress base-chain rule that accepts its own node; nil otherwise or
    /// when the pod's node is unknown (a cluster built without the lab's placement).
    func localNodeRule(_ pod: Pod, _ cluster: Cluster) -> Rule? {
        guard let node = cluster.admittedLocalNode(of: pod.key) else { return nil }
        return Rule(
            [.saddr(prefix: LabNetwork.nodeAddress(node).value, length: 32)], verdict: .accept,
            comment: "the pod's own node (NetworkPolicy: ingress from the local node is allowed)")
    }

    /// With `policy` in node placement, the node table's `output` chain judging the node's own
    /// connections to its pods by their ingress rules; nil otherwise.
    func localNodeChain(_ cluster: Cluster) -> Chain? {
        guard placement == .node, cluster.nodeIngress == .policy else { return nil }
        return podDispatchChain(
            "local-node", hook: .output, by: .daddr, map: "in-pods", comment: "the node's own connections to its isolated pods")
    }
}
