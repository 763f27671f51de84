import KeycardModel
import KeycardValues

extension Timeline {
    /// Refuses two host-network pods of one node that declare the same port and protocol when
    /// either has a `command:`. The API server accepts both and the scheduler keeps the later one
    /// Pending (`NodePortsScheduler`; a host-network pod's container ports are its node's ports),
    /// so without programs keycard does the same, one listener answering for whichever runs. But
    /// the lab starts every pod's program when it comes up (in its node's namespace for a
    /// host-network pod), Pending or not, and a program cannot listen on a port of the node that
    /// keycard's listener or another program holds: keycard refuses the scenario instead, at the
    /// later pod's file position. `fallback` is where the change that made this state was written.
    static func checkHostPorts(_ cluster: Cluster, everyPod: [LoadedObject], at fallback: SourceLocation) throws(ScenarioError) {
        var owners: [Int: [ProtocolPort: Pod]] = [:]
        for pod in cluster.sortedPods where pod.hostNetwork {
            guard let node = cluster.podNodes[pod.key] else { continue }
            for port in pod.ports {
                let key = ProtocolPort(port.proto, port.port)
                if let first = owners[node]?[key], first.key != pod.key, !first.commands.isEmpty || !pod.commands.isEmpty {
                    let written = everyPod.last { if case .pod(let other) = $0.object { other.key == pod.key } else { false } }
                    let whose = [first, pod].filter { !$0.commands.isEmpty }.map(\.key.description).joined(separator: " and ")
                    throw ScenarioError(
                        written?.location ?? fallback,
                        "pod \(pod.key): host port \(key) of node-\(node) is declared by the hostNetwork pod \(first.key) too, and \(whose) run\(whose.contains(" and ") ? "" : "s") a command: the lab starts every pod's program, Pending or not, and a program cannot share a node's port with another listener (give one pod another node or port)"
                    )
                }
                if owners[node]?[key] == nil || !pod.commands.isEmpty { owners[node, default: [:]][key] = pod }
            }
        }
    }
}
