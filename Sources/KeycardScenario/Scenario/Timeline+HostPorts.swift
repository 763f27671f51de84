import KeycardModel
import KeycardValues

extension Timeline {
    /// Refuses two host-network pods of one node, each with a `command:`, that declare the same port
    /// and protocol. The API server accepts both and the scheduler keeps the later one Pending
    /// (`NodePortsScheduler`; a host-network pod's container ports are its node's ports), so
    /// without programs keycard does the same. But the lab starts every pod's program when it comes
    /// up, in its node's namespace for a host-network pod, and two programs cannot listen on one
    /// port of one namespace: keycard refuses the scenario instead, at the later pod's file
    /// position. `fallback` is where the change that made this state was written.
    static func checkHostPorts(_ cluster: Cluster, everyPod: [LoadedObject], at fallback: SourceLocation) throws(ScenarioError) {
        var owners: [Int: [ProtocolPort: ObjectKey]] = [:]
        for pod in cluster.sortedPods where pod.hostNetwork && !pod.commands.isEmpty {
            guard let node = cluster.podNodes[pod.key] else { continue }
            for port in pod.ports {
                let key = ProtocolPort(port.proto, port.port)
                if let first = owners[node]?[key], first != pod.key {
                    let written = everyPod.last { if case .pod(let other) = $0.object { other.key == pod.key } else { false } }
                    throw ScenarioError(
                        written?.location ?? fallback,
                        "pod \(pod.key): its command would listen on host port \(key) of node-\(node), where the command of the hostNetwork pod \(first) listens; the lab starts every pod's program, so two programs cannot share a node's port (give one another node or port)"
                    )
                }
                owners[node, default: [:]][key] = pod.key
            }
        }
    }
}
