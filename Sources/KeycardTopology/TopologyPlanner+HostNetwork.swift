import KeycardValues

extension TopologyPlanner {
    /// Host-network pods (`PodSpec.hostNetwork`) on their nodes: each takes its node's namespace and
    /// uplink address (`LabNetwork.nodeAddress`), and nothing is built for it. A pod needs
    /// `nodeName` (the scenario's address plan always gives one): without it, round-robin from
    /// node-0. Names are checked as for other pods; a key used twice is refused.
    static func hostNetworkPods(_ spec: LabSpec, plan: LabPlan, placed: [Placement]) throws(TopologyError) -> [PlannedPod] {
        var seen = Set(placed.map { "\($0.spec.namespace)/\($0.spec.name)" })
        var roundRobin = 0
        var result: [PlannedPod] = []
        for pod in spec.pods where pod.hostNetwork {
            let key = "\(pod.namespace)/\(pod.name)"
            guard Names.isDNSLabel(pod.namespace) else { throw .invalidName(kind: "namespace", name: pod.namespace) }
            guard Names.isDNSSubdomain(pod.name) else { throw .invalidName(kind: "pod", name: pod.name) }
            guard seen.insert(key).inserted else { throw .duplicatePod(key) }
            let index: Int
            if let nodeName = pod.nodeName {
                guard let named = nodeIndex(nodeName), named < spec.nodes else {
                    throw .unknownNode(pod: key, nodeName: nodeName, nodes: spec.nodes)
                }
                index = named
            } else {
                index = roundRobin % spec.nodes
                roundRobin += 1
            }
            let node = plan.nodes[index]
            var planned = PlannedPod(
                namespace: pod.namespace, name: pod.name, netns: node.namespace, nodeIndex: node.index,
                nodeName: node.name, address: node.uplinkAddress, gateway: node.uplinkAddress,
                interface: "", nodeInterface: "", ports: pod.ports, command: pod.command)
            planned.hostNetwork = true
            planned.resolver = pod.resolver
            planned.context = pod.context
            result.append(planned)
        }
        return result
    }
}
