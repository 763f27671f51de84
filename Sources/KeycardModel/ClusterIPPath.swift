import KeycardValues

/// `spec.internalTrafficPolicy` of a Service: which endpoints traffic from inside the cluster to
/// its ClusterIP may reach.
///
/// Kubernetes: https://kubernetes.io/docs/concepts/services-networking/service-traffic-policy/ —
/// `Cluster` (the default of every type but ExternalName) routes to every ready endpoint, `Local`
/// only to endpoints on the client's own node; a node without one drops the traffic (kube-proxy's
/// nftables proxier: `internalTrafficFilterVerdict = "drop"`, "has no local endpoints"). It does
/// not touch node-port or load-balancer traffic from outside (`ExternalTrafficPolicy`).
public enum InternalTrafficPolicy: String, Hashable, Sendable, CaseIterable, Codable {
    case cluster = "Cluster"
    case local = "Local"
}

/// How a connection from inside the cluster to a Service's ClusterIP reaches its endpoints, as
/// kube-proxy forwards it (pkg/proxy/topology.go `CategorizeEndpoints`: under Local the
/// "cluster" endpoints of internal traffic are the node's local ones) and as the lab's proxy
/// builds it (`ServiceProxyCompiler`). Shared by the model, the compiler and the probes' aim, so
/// the three agree on every cell.
///
/// The client's node is its pod's node; a host-network pod's and a node's own connections are
/// the node's (kube-proxy applies Local to them too: they leave from that node).
///
/// `trafficDistribution: PreferSameNode` (beta, on by default in 1.34): the EndpointSlice
/// controller gives every endpoint a hint for its own node (staging/src/k8s.io/endpointslice
/// trafficdist.go), and kube-proxy's `CategorizeEndpoints` then sends a node's clients to that
/// node's endpoints, or to every endpoint when it has none. Node-port and load-balancer traffic
/// under `externalTrafficPolicy: Cluster` is narrowed the same way (`NodePortPath`).
public enum ClusterIPPath {
    /// The endpoints the proxy on `node` sends `port` of `service` to, in the proxy's order: every
    /// endpoint under Cluster, the endpoints running on `node` under Local (none: it drops), and
    /// under PreferSameNode those on `node`, or every endpoint when `node` has none.
    public static func endpoints(_ cluster: Cluster, _ service: Service, _ port: ServicePort, node: Int) -> [ServiceBackend] {
        endpoints(cluster.backends(of: service, port: port), cluster, service, node: node)
    }

    /// The same, given the port's endpoints `all` (`cluster.backends(of:port:)`, listed once).
    public static func endpoints(_ all: [ServiceBackend], _ cluster: Cluster, _ service: Service, node: Int) -> [ServiceBackend] {
        if service.internalTrafficPolicy == .local { return all.filter { cluster.podNodes[$0.pod] == node } }
        if service.prefersSameNode {
            let local = all.filter { cluster.podNodes[$0.pod] == node }
            return local.isEmpty ? all : local
        }
        return all
    }

    /// Whether a connection from `source` to `service`'s ClusterIP on `port` can be sent to
    /// `backend`: always under Cluster; under Local only when `backend` runs on the source's node.
    public static func reaches(_ cluster: Cluster, from source: Endpoint, _ service: Service, _ port: ServicePort, backend: ServiceBackend)
        -> Bool
    {
        let node = cluster.clientNode(of: source)
        if service.prefersSameNode && service.internalTrafficPolicy != .local {
            return endpoints(cluster, service, port, node: node).contains(backend)
        }
        guard service.internalTrafficPolicy == .local else { return true }
        // `endpoints(node:)` holds it exactly when it runs on that node (no listing per cell).
        return cluster.podNodes[backend.pod] == node
    }
}

extension Cluster {
    /// The node a cluster-internal connection from `source` leaves from: a pod's node (host-network
    /// pods included), a lab node itself; node 0 when the placement is unknown (a one-node lab).
    public func clientNode(of source: Endpoint) -> Int {
        switch source {
        case .pod(let key): podNodes[key] ?? 0
        case .node(let name): nodeIndex(name) ?? 0
        case .external, .address, .service, .exposed: 0
        }
    }
}
