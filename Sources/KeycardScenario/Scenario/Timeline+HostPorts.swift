import KeycardModel
import KeycardValues

extension Timeline {
    /// Refuses two host-network pods of one node that exist together and declare the same port and
    /// protocol: their container ports are the node's ports, so the scheduler never places the
    /// second one there (the NodePorts filter plugin: a hostNetwork pod's containerPorts are host
    /// ports, https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins), and it
    /// would stay Pending. keycard refuses the scenario instead, at the later pod's file position.
    /// `fallback` is where the change that made this state was written.
    static func checkHostPorts(_ cluster: Cluster, everyPod: [LoadedObject], at fallback: SourceLocation) throws(ScenarioError) {
        var owners: [Int: [ProtocolPort: ObjectKey]] = [:]
        for pod in cluster.sortedPods where pod.hostNetwork {
            guard let node = cluster.podNodes[pod.key] else { continue }
            for port in pod.ports {
                let key = ProtocolPort(port.proto, port.port)
                if let first = owners[node]?[key], first != pod.key {
                    let written = everyPod.last { if case .pod(let other) = $0.object { other.key == pod.key } else { false } }
                    throw ScenarioError(
                        written?.location ?? fallback,
                        "pod \(pod.key): host port \(key) on node-\(node) is already taken by the hostNetwork pod \(first); the scheduler would not place it there"
                    )
                }
                owners[node, default: [:]][key] = pod.key
            }
        }
    }
}
