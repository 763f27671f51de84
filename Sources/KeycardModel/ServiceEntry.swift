import KeycardValues

/// Where a probe from outside enters a NodePort or LoadBalancer Service (`Endpoint.exposed`):
/// a node's node port, or the Service's load-balancer address.
public enum ServiceEntry: Hashable, Sendable, CustomStringConvertible {
    /// `node-N`: `LabNetwork.nodeAddress(N)` on the Service port's `nodePort`.
    case node(Int)
    /// `lb`: `status.loadBalancer.ingress[0].ip` on the Service port.
    case loadBalancer

    /// `node-N` or `lb`.
    public static func parse(_ text: String) -> ServiceEntry? {
        if text == "lb" { return .loadBalancer }
        guard text.hasPrefix("node-"), let index = Int(text.dropFirst(5)), index >= 0, text == "node-\(index)" else { return nil }
        return .node(index)
    }

    public var description: String {
        switch self {
        case .node(let index): "node-\(index)"
        case .loadBalancer: "lb"
        }
    }
}

extension Cluster {
    /// The address a probe to `key` through `entry` connects to: the node's address, or the
    /// Service's load-balancer address (nil while pending or for no such Service).
    public func exposedAddress(_ key: ObjectKey, _ entry: ServiceEntry) -> IPv4? {
        switch entry {
        case .node(let index): services[key] == nil ? nil : LabNetwork.nodeAddress(index)
        case .loadBalancer: services[key]?.loadBalancerIngress
        }
    }

    /// The Service port a probe through `entry` on `port` reaches: for a node, the port whose
    /// `nodePort` is `port`; for the load balancer, the Service port itself (node ports needed:
    /// the lab's load balancer forwards to them).
    public func exposedPort(_ service: Service, _ entry: ServiceEntry, _ port: ProtocolPort) -> ServicePort? {
        switch entry {
        case .node: service.port(nodePort: port.port, proto: port.proto)
        case .loadBalancer: service.ports.first { $0.protocolPort == port && $0.nodePort != nil }
        }
    }
}

extension PolicyEngine {
    /// A connection from an external to a NodePort or LoadBalancer Service through `entry`, aimed
    /// at `backend`: judged on the backend pod and target port, with the source address the
    /// backend sees (`NodePortPath`: the node's after Cluster's source NAT, else the client's).
    /// Denied with no policy to name when the path cannot reach that backend: no such Service,
    /// port or endpoint, a node (or load balancer) without it under Local, a pending load balancer.
    func evaluate(from source: Endpoint, toExposed key: ObjectKey, entry: ServiceEntry, backend: ObjectKey?, port: ProtocolPort)
        -> Verdict
    {
        let destination = Endpoint.exposed(key, entry, backend: backend)
        let unreachable = Self.unroutable(from: source, to: destination, port: port)
        guard let service = cluster.services[key], cluster.exposedAddress(key, entry) != nil,
            let servicePort = cluster.exposedPort(service, entry, port),
            let found = cluster.backends(of: service, port: servicePort).first(where: { $0.pod == backend })
        else { return unreachable }
        let node: Int
        switch entry {
        case .node(let index):
            guard index < max(cluster.nodeCount, 1) else { return unreachable }
            node = index
        case .loadBalancer:
            node = NodePortPath.loadBalancerEntry(cluster, service, backend: found)
            guard NodePortPath.loadBalancerNodes(cluster, service, servicePort).contains(node) else { return unreachable }
        }
        guard NodePortPath.endpoints(cluster, service, servicePort, node: node).contains(found) else { return unreachable }
        let seen: Endpoint =
            NodePortPath.masquerades(cluster, service, backend: found, node: node)
            ? .address(LabNetwork.nodeAddress(node)) : source
        var verdict = evaluate(from: seen, to: .pod(found.pod), port: found.target)
        verdict.from = source
        verdict.to = destination
        verdict.port = port
        return verdict
    }
}
