import KeycardModel
import KeycardValues

/// A one-node cluster with host-network pods in namespace `mon` (all at node-0's address) and a
/// client pod `x/client` on the pod network: the shared address behind host-network tests.
public enum HostNetworkWorld {
    /// `hostPods`: each pod's name and container ports. Returns the cluster and the client's key.
    public static func cluster(_ hostPods: [(name: String, ports: [ContainerPort])]) -> (Cluster, client: ObjectKey) {
        var cluster = Cluster()
        cluster.namespaces["mon"] = Namespace(name: "mon")
        cluster.namespaces["x"] = Namespace(name: "x")
        cluster.nodeCount = 1
        for (name, ports) in hostPods {
            var pod = Pod(namespace: "mon", name: name, ports: ports)
            pod.hostNetwork = true
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = LabNetwork.nodeAddress(0)
            cluster.podNodes[pod.key] = 0
        }
        let client = Pod(namespace: "x", name: "client")
        cluster.pods[client.key] = client
        cluster.addresses[client.key] = IPv4(0x0AF4_0002)
        cluster.podNodes[client.key] = 0
        return (cluster, client.key)
    }
}
