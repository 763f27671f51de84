import KeycardModel
import KeycardValues

extension Explanation {
    /// For a connection to a ClusterIP aimed at `backend` of a Service with
    /// `internalTrafficPolicy: Local`, says which node's proxy chose the endpoint and whether it
    /// may send there (`ClusterIPPath`): only endpoints on the client's node. Leaves the
    /// explanation alone for a Cluster Service (every endpoint is reachable, nothing to add).
    /// Without a backend (the client's node has no endpoint of a Local Service that has some
    /// elsewhere), says that node's proxy drops the connection. `enforcement` is how the network
    /// judged this call: the cluster's (nil), or post-DNAT for a call the source's mesh proxy carries.
    mutating func describeClusterIPPath(
        _ cluster: Cluster, from source: Endpoint, _ key: ObjectKey, backend: ObjectKey?, port: ProtocolPort,
        enforcement: ServiceEnforcement? = nil
    ) {
        let enforcement = enforcement ?? cluster.serviceEnforcement
        guard let service = cluster.services[key], let servicePort = service.ports.first(where: { $0.protocolPort == port }) else {
            return
        }
        // Policies judge the translated connection: the backend on its target port (the egress side
        // too, unless serviceEnforcement is pre-dnat: then the ClusterIP on the Service port).
        // (A connection the mesh tunnels was described by `describeTunnel`: its hop stays.)
        if judged == nil, let backend,
            let target = cluster.backend(backend, of: service, port: servicePort)?.target
        {
            judged = (from, target.description)
            if enforcement == .postDNAT { egressJudged = (backend.description, target.description) }
            // The classic confusion: policies name the target port, not the Service port.
            if target != port {
                translation =
                    enforcement == .postDNAT
                    ? "the ClusterIP sends \(port) to \(backend) on its target port \(target): both sides' policies judge \(target)"
                    : "the ClusterIP sends \(port) to \(backend) on its target port \(target): egress (pre-dnat) judges \(port), ingress \(target)"
            }
        }
        guard service.internalTrafficPolicy == .local else { return }
        let node = cluster.clientNode(of: source)
        guard let backend else {
            guard !cluster.backends(of: service, port: servicePort).isEmpty else { return }
            keptOffByLocal = true
            detail =
                "no path: internalTrafficPolicy Local: node-\(node) (the client's node) has no endpoint of \(key), so its proxy drops the connection"
            return
        }
        guard let found = cluster.backend(backend, of: service, port: servicePort) else { return }
        let backendNode = cluster.nodeName(ofPod: backend) ?? "an unknown node"
        if ClusterIPPath.reaches(cluster, from: source, service, servicePort, backend: found) {
            detail = "internalTrafficPolicy Local: \(backend) runs on node-\(node), the client's node"
            return
        }
        keptOffByLocal = true
        let local = ClusterIPPath.endpoints(cluster, service, servicePort, node: node)
        detail =
            "no path: internalTrafficPolicy Local: the proxy on node-\(node) (the client's node) sends only to its own endpoints"
            + " and \(backend) runs on \(backendNode)"
            + (local.isEmpty ? "; node-\(node) has none, so it drops the connection" : "")
    }
}
