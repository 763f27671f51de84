import KeycardModel
import KeycardRuleset
import KeycardValues

extension ServiceAim {
    /// The source port and backend for a cell to `svc/ns/name@node-N>pod` or `@lb>pod`: a port
    /// that the node's endpoint choice sends to that backend (and, through the load balancer, that
    /// the router's node choice sends to the entry node `NodePortPath.loadBalancerEntry`); nil
    /// when the path cannot reach the backend (the model then expects a deny, and the probe goes
    /// out from a port no rule steers).
    func aimExposed(_ destination: Endpoint, _ port: ProtocolPort, used: inout Set<UInt16>) -> (
        sourcePort: UInt16, backend: ServiceBackend
    )? {
        guard case .exposed(let key, let entry, let pod?) = destination, let service = cluster.services[key],
            let servicePort = cluster.exposedPort(service, entry, port),
            let backend = cluster.backend(pod, of: service, port: servicePort)
        else { return nil }
        var node = 0
        var balancer: (index: Int, count: Int)?
        switch entry {
        case .node(let index): node = index
        case .loadBalancer:
            node = NodePortPath.loadBalancerEntry(cluster, service, servicePort, backend: backend)
            let nodes = NodePortPath.loadBalancerNodes(cluster, service, servicePort)
            guard let index = nodes.firstIndex(of: node) else { return nil }
            balancer = (index, nodes.count)
        }
        let endpoints = NodePortPath.endpoints(cluster, service, servicePort, node: node)
        guard let index = endpoints.firstIndex(of: backend) else { return nil }
        let usedPorts = used
        func fits(_ candidate: UInt16) -> Bool {
            guard !usedPorts.contains(candidate),
                ServiceHash.endpointIndex(sourcePort: candidate, count: endpoints.count) == index
            else { return false }
            guard let balancer else { return true }
            return ServiceHash.endpointIndex(sourcePort: candidate, count: balancer.count, seed: NodePortPath.loadBalancerSeed)
                == balancer.index
        }
        guard let sourcePort = (start...32767).first(where: fits) ?? (20000...32767).first(where: fits) else { return nil }
        used.insert(sourcePort)
        return (sourcePort, backend)
    }
}
