import KeycardValues

/// How traffic from outside reaches a Service's endpoints through a node port or a load balancer,
/// as kube-proxy forwards it (https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy)
/// and as keycard's lab builds it (`NodePortCompiler`, `LoadBalancerCompiler`). Shared by the
/// model, the compilers and the probes' aim, so all three agree on every hop.
///
/// - A node forwards `NODE:nodePort` to every endpoint (`Cluster`) or to its own endpoints only
///   (`Local`; none: it drops). Under `Cluster`, `trafficDistribution: PreferSameNode` narrows
///   "every endpoint" to the node's own when it has any, as for ClusterIP traffic: kube-proxy's
///   external traffic under Cluster goes to the same topology-filtered `clusterEndpoints`
///   (pkg/proxy/topology.go `CategorizeEndpoints`; `ClusterIPPath`).
/// - `Cluster` source-NATs to the node's address when the chosen endpoint runs on another node (the
///   reply must come back through the node that translated it); an endpoint on the same node sees
///   the client, as Cilium's kube-proxy replacement does. kube-proxy's iptables and nftables modes
///   masquerade these too: the Kubernetes docs leave the address a policy sees after such
///   rewriting to the implementation ("it is not defined whether this happens before or after
///   NetworkPolicy processing", network-policies#what-you-can-t-do-with-network-policies-at-least-not-yet).
/// - `Local` keeps the client's address.
/// - The lab's load balancer (its router) sends `LB:port` to `NODE:nodePort` of every node
///   (`Cluster`) or only of the nodes with a local endpoint (`Local`: what the health-check node
///   port makes a cloud load balancer do), keeping the client's address.
public enum NodePortPath {
    /// The endpoints node `node` forwards `port` of `service` to, in the proxy's order.
    public static func endpoints(_ cluster: Cluster, _ service: Service, _ port: ServicePort, node: Int) -> [ServiceBackend] {
        let all = cluster.backends(of: service, port: port)
        let local = all.filter { cluster.podNodes[$0.pod] == node }
        if service.externalTrafficPolicy == .local { return local }
        return service.prefersSameNode && !local.isEmpty ? local : all
    }

    /// Whether the connection to `backend` through `node` is source-NATed to the node.
    public static func masquerades(_ cluster: Cluster, _ service: Service, backend: ServiceBackend, node: Int) -> Bool {
        service.externalTrafficPolicy != .local && cluster.podNodes[backend.pod] != node
    }

    /// The nodes the load balancer sends `port` of `service` to, in order.
    public static func loadBalancerNodes(_ cluster: Cluster, _ service: Service, _ port: ServicePort) -> [Int] {
        let nodes = Array(0..<max(cluster.nodeCount, 1))
        guard service.externalTrafficPolicy == .local else { return nodes }
        let local = Set(cluster.backends(of: service, port: port).compactMap { cluster.podNodes[$0.pod] })
        return nodes.filter(local.contains)
    }

    /// The node a probe through the load balancer enters by, to reach `backend` on `port`: its own
    /// node under `Local` (no other forwards to it); under `Cluster` the lowest-numbered other node
    /// that forwards to it when there is one (under PreferSameNode, one without endpoints of its
    /// own), so the cell shows the source NAT a cloud load balancer's spreading brings.
    public static func loadBalancerEntry(_ cluster: Cluster, _ service: Service, _ port: ServicePort, backend: ServiceBackend) -> Int {
        let own = cluster.podNodes[backend.pod] ?? 0
        guard service.externalTrafficPolicy != .local else { return own }
        let others = (0..<max(cluster.nodeCount, 1)).filter { $0 != own }
        guard service.prefersSameNode else { return others.first ?? own }
        return others.first { endpoints(cluster, service, port, node: $0).contains(backend) } ?? own
    }

    /// The seed of the load balancer's node choice: not the proxy's, so the two hashes of one
    /// source port are independent.
    public static let loadBalancerSeed: UInt32 = 0x6c62
}
