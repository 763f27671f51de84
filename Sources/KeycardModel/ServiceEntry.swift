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

/// The hops of one connection from outside to a NodePort or LoadBalancer Service (`NodePortPath`):
/// the node it enters by, the endpoint it reaches, and the address that endpoint sees.
public struct ExposedPath: Hashable, Sendable {
    public var service: Service
    public var servicePort: ServicePort
    /// The node that translates the connection (for the load balancer, the one it sends it to).
    public var node: Int
    public var backend: ServiceBackend
    /// The node's address when Cluster source-NATs the connection (the endpoint is on another
    /// node); nil when the client's address is kept.
    public var sourceNAT: IPv4?
}

extension Cluster {
    /// The node a load balancer sends a connection on `port` to when Service `key` has no endpoint
    /// for it (`exposedPath` is nil): the lowest-numbered of the nodes it sends to, every node
    /// under `Cluster` (`NodePortPath.loadBalancerNodes`); nil under `Local` (no node has an
    /// endpoint, so none is healthy), for a pending load balancer, or without such a Service or port.
    public func loadBalancerEntryWithoutEndpoint(_ key: ObjectKey, port: ProtocolPort) -> Int? {
        guard let service = services[key], exposedAddress(key, .loadBalancer) != nil,
            let servicePort = exposedPort(service, .loadBalancer, port)
        else { return nil }
        return NodePortPath.loadBalancerNodes(self, service, servicePort).first
    }

    /// The path a connection through `entry` on `port` takes to `backend`, or nil when there is
    /// none: no such Service, port or endpoint, a node outside the lab, a pending load balancer, or
    /// a node (or every node the load balancer uses) without that endpoint under Local.
    public func exposedPath(_ key: ObjectKey, _ entry: ServiceEntry, backend: ObjectKey?, port: ProtocolPort) -> ExposedPath? {
        guard let service = services[key], exposedAddress(key, entry) != nil, let servicePort = exposedPort(service, entry, port),
            let found = self.backend(backend, of: service, port: servicePort)
        else { return nil }
        let node: Int
        switch entry {
        case .node(let index):
            guard index < max(nodeCount, 1) else { return nil }
            node = index
        case .loadBalancer:
            node = NodePortPath.loadBalancerEntry(self, service, servicePort, backend: found)
            guard NodePortPath.loadBalancerNodes(self, service, servicePort).contains(node) else { return nil }
        }
        guard NodePortPath.endpoints(self, service, servicePort, node: node).contains(found) else { return nil }
        let sourceNAT = NodePortPath.masquerades(self, service, backend: found, node: node) ? LabNetwork.nodeAddress(node) : nil
        return ExposedPath(service: service, servicePort: servicePort, node: node, backend: found, sourceNAT: sourceNAT)
    }
}

extension PolicyEngine {
    /// A connection from an external to a NodePort or LoadBalancer Service through `entry`, aimed
    /// at `backend`: judged on the backend pod and target port, with the source address the
    /// backend sees (`NodePortPath`: the node's after Cluster's source NAT, else the client's).
    /// Denied with no policy to name when there is no path (`Cluster.exposedPath`).
    func evaluate(from source: Endpoint, toExposed key: ObjectKey, entry: ServiceEntry, backend: ObjectKey?, port: ProtocolPort)
        -> Verdict
    {
        let destination = Endpoint.exposed(key, entry, backend: backend)
        guard let path = cluster.exposedPath(key, entry, backend: backend, port: port),
            cluster.loadBalancerAdmits(source, key, entry)
        else {
            return Self.unroutable(from: source, to: destination, port: port)
        }
        var verdict = evaluate(from: path.sourceNAT.map(Endpoint.address) ?? source, to: .pod(path.backend.pod), port: path.backend.target)
        verdict.from = source
        verdict.to = destination
        verdict.port = port
        return verdict
    }
}

extension Cluster {
    /// Whether `entry` lets `source` in: the load balancer of a Service with IPv4
    /// `loadBalancerSourceRanges` admits only sources whose address one of them holds; a node port
    /// admits every source (the ranges guard the load-balancer address only, as kube-proxy's
    /// firewall chain does). As kube-proxy keeps only the ranges of the Service's family and builds
    /// no firewall without one, IPv6 ranges alone guard nothing in the IPv4 lab.
    public func loadBalancerAdmits(_ source: Endpoint, _ key: ObjectKey, _ entry: ServiceEntry) -> Bool {
        guard entry == .loadBalancer, let ranges = services[key]?.ipv4SourceRanges, !ranges.isEmpty else { return true }
        guard let address = address(of: source) else { return false }
        return ranges.contains { $0.contains(address) }
    }
}
