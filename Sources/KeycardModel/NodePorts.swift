import KeycardValues

/// `spec.externalTrafficPolicy` of a NodePort or LoadBalancer Service: how a node forwards traffic
/// that arrives on its node port or the load balancer's address.
///
/// Kubernetes: https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy
/// — `Cluster` routes to every ready endpoint and source-NATs the connection to the node, `Local`
/// routes only to the node's own endpoints and keeps the client's address (a node without one
/// drops the traffic).
public enum ExternalTrafficPolicy: String, Hashable, Sendable, CaseIterable, Codable {
    case cluster = "Cluster"
    case local = "Local"
}

/// Node-port allocation (`--service-node-port-range`, 30000-32767 by default).
///
/// The API server allocates at random (pkg/registry/core/service/portallocator), first from the
/// upper part of the range: since Kubernetes 1.29 (KEP-3668, ServiceNodePortStaticSubrange) the
/// lower `staticOffset` ports are kept for Services that pin one. keycard hands out the lowest free
/// port of the upper part (then of the lower part), so a scenario gets the same node ports on
/// every run, in apply order, and a later Service may pin a port of the lower part.
/// A port number belongs to one Service whatever its protocol; one Service may use the same number
/// for two protocols (TCP and UDP of a DNS Service).
public enum NodePorts {
    /// The API server's default `--service-node-port-range`.
    public static let range = 30000...32767

    /// How many ports at the start of `range` are kept for pinned node ports:
    /// `min(max(16, size / 32), 128)` (portallocator's `calculateRangeOffset`); 86 for the
    /// default range, so 30000 … 30085.
    public static let staticOffset = min(max(16, range.count / 32), 128)

    /// The lowest port of the upper part of `range` not in `taken`, else of the lower part; nil
    /// when the range is full.
    public static func allocate(taken: Set<Int>) -> Int? {
        let upper = range.lowerBound + staticOffset
        return (upper...range.upperBound).first { !taken.contains($0) } ?? (range.lowerBound..<upper).first { !taken.contains($0) }
    }
}

/// Load-balancer addresses (`status.loadBalancer.ingress[].ip`) from the lab's
/// `spec.lab.loadBalancerCIDR`: what a cloud controller (or MetalLB) would assign. The lowest free
/// address, skipping the network and broadcast addresses, so runs agree.
public enum LoadBalancerAddresses {
    /// The lowest free host address of `cidr`, or nil when none is left.
    public static func allocate(in cidr: CIDR, taken: Set<IPv4>) -> IPv4? {
        let first = cidr.size > 2 ? UInt64(cidr.network) + 1 : UInt64(cidr.network)
        let last = cidr.size > 2 ? UInt64(cidr.last) - 1 : UInt64(cidr.last)
        guard first <= last else { return nil }
        for candidate in first...last where !taken.contains(IPv4(UInt32(candidate))) { return IPv4(UInt32(candidate)) }
        return nil
    }
}

extension Service {
    /// Whether the API server allocates a node port to each port that pins none: NodePort, and
    /// LoadBalancer unless `allocateLoadBalancerNodePorts: false` (pkg/registry/core/service/storage
    /// alloc.go, `initNodePorts`/`updateNodePorts` with `shouldAllocateNodePorts`). Allocation
    /// only: whether a node serves a port is `servesNodePorts`.
    public var allocatesNodePorts: Bool {
        switch kind {
        case .nodePort: true
        case .loadBalancer: allocateLoadBalancerNodePorts != false
        case .clusterIP, .externalName: false
        }
    }

    /// Whether every node serves some of its ports on their node ports: a NodePort or LoadBalancer
    /// Service with a port that holds a `nodePort`, whatever `allocateLoadBalancerNodePorts` says.
    /// The registry keeps a pinned node port (and, on update, the ones already allocated) of a
    /// LoadBalancer that allocates none (alloc.go `initNodePorts`, `updateNodePorts`; Service docs,
    /// "Load balancer NodePort allocation": existing node ports are not de-allocated), and kube-proxy
    /// programs every port whose `NodePort() != 0` (pkg/proxy/nftables/proxier.go). One rule for the
    /// model, the lab's node-port tables, probe resolution and scan prediction.
    public var servesNodePorts: Bool {
        isExternallyAccessible && ports.contains { $0.nodePort != nil }
    }

    /// Whether traffic from outside the cluster reaches it (NodePort, LoadBalancer): only these
    /// carry `externalTrafficPolicy`.
    public var isExternallyAccessible: Bool { kind == .nodePort || kind == .loadBalancer }

    /// Whether the API server gives it a `healthCheckNodePort`: LoadBalancer with the Local policy.
    public var needsHealthCheckNodePort: Bool { kind == .loadBalancer && externalTrafficPolicy == .local }

    /// The node port numbers the Service holds (its ports' and its health check's).
    public var heldNodePorts: Set<Int> { Set(ports.compactMap(\.nodePort)).union(healthCheckNodePort.map { [$0] } ?? []) }

    /// The Service port whose node port is `nodePort` for `proto`.
    public func port(nodePort: Int, proto: TransportProtocol) -> ServicePort? {
        ports.first { $0.nodePort == nodePort && $0.proto == proto }
    }
}

extension Cluster {
    /// The Service a connection to any node's address on `port` reaches: the first (by key) whose
    /// port has that node port for that protocol (`Service.servesNodePorts`). kube-proxy DNATs
    /// node-port traffic at the nat prerouting and output hooks (pkg/proxy/nftables/proxier.go,
    /// the `service-nodeports` map) before local delivery, so a host-network pod listening on
    /// the same port of the node never gets it. nil: the node's own sockets answer.
    public func nodePortService(_ port: ProtocolPort) -> Service? {
        sortedServices.first { $0.servesNodePorts && $0.port(nodePort: port.port, proto: port.proto) != nil }
    }
}
