import KeycardModel
import KeycardRuleset
import KeycardValues

/// Compiles the node ports of NodePort and LoadBalancer Services for one node: the table kube-proxy
/// keeps for node-port traffic (kubernetes/kubernetes pkg/proxy/nftables/proxier.go: the
/// `service-nodeports` map, `external-` chains, the masquerade mark), in the node's namespace, in
/// both placements (traffic from outside reaches a node first):
///
/// ```
/// table inet kc-LAB-nodeport {
///   map node-ports { type ipv4_addr . inet_proto . inet_service : verdict; }   # NODE . tcp . nodePort
///   chain nat-prerouting { type nat hook prerouting priority -100; ip daddr . meta l4proto . th dport vmap @node-ports }
///   chain nat-output     { type nat hook output priority -100;     (the same, for the node's own connections) }
///   chain nat-postrouting { type nat hook postrouting priority 100; meta mark 0x00004000 snat ip to NODE }
///   chain external-ns/web/tcp/http { jhash th sport mod 2 seed 0x6b63 == 0 goto endpoint-ns/web/tcp/http__10.244.1.2/8080; ... }
///   chain endpoint-ns/web/tcp/http__10.244.1.2/8080 { meta mark set 0x00004000; dnat ip to 10.244.1.2:8080 }
/// }
/// ```
///
/// The endpoints, and which connections are source-NATed, follow `NodePortPath` (Cluster: every
/// endpoint, masquerade to a remote one; Local: this node's endpoints, the client's address kept,
/// none: drop). The node's address is `LabNetwork.nodeAddress`. The endpoint is chosen by the
/// same source-port hash as the ClusterIP proxy (`ServiceHash`), so a probe can aim at each.
public struct NodePortCompiler: Sendable {
    public var labName: String

    public init(labName: String) { self.labName = labName }

    /// `kc-LAB-nodeport`: beside the policy and ClusterIP tables, owned by keycard like them.
    public var tableName: String { "kc-\(labName)-nodeport" }

    /// The family of `tableName`.
    public static let tableFamily: TableFamily = .inet

    /// The map the dispatch rules look up.
    public static let nodePortMap = "node-ports"

    /// kube-proxy's masquerade bit (`--masquerade-bit` 14): marks a connection for source NAT.
    public static let masqueradeMark: UInt32 = 0x4000

    /// Node `node`'s table for `cluster`, or nil when no Service has a node port.
    public func compile(_ cluster: Cluster, node: Int) -> Table? {
        let services = cluster.sortedServices.filter(\.servesNodePorts)
        guard !services.isEmpty else { return nil }
        let address = LabNetwork.nodeAddress(node)
        var map = NamedSet(name: Self.nodePortMap, key: [.ipv4Address, .inetProto, .inetService], data: .verdict)
        var chains: [Chain] = []
        for service in services {
            for port in service.ports {
                guard let nodePort = port.nodePort else { continue }
                let externalChain = Self.externalChainName(service, port)
                map.elements.append(
                    .mapping([.ipv4(address.value), .proto(port.proto.number), .port(UInt16(nodePort))], .goto(externalChain)))
                let why = service.externalTrafficPolicy == .local ? "has no endpoint on node-\(node)" : "has no endpoints"
                chains += ServiceEndpointChains.chains(
                    externalChain, service, port, endpoints: NodePortPath.endpoints(cluster, service, port, node: node), none: why
                ) { backend in
                    // Cluster policy to another node's endpoint: source NAT to this node (kube-proxy's masquerade mark).
                    NodePortPath.masquerades(cluster, service, backend: backend, node: node)
                        ? [Rule(verdict: .setMark(Self.masqueradeMark))] : []
                }
            }
        }
        let dispatch = Rule(verdict: .vmap([.daddr, .l4proto, .dport], map: Self.nodePortMap), comment: "node ports")
        let base = [
            Chain(name: "nat-prerouting", base: BaseChain(type: .nat, hook: .prerouting, priority: -100), rules: [dispatch]),
            Chain(name: "nat-output", base: BaseChain(type: .nat, hook: .output, priority: -100), rules: [dispatch]),
            Chain(
                name: "nat-postrouting", base: BaseChain(type: .nat, hook: .postrouting, priority: 100),
                rules: [
                    Rule(
                        [.mark(Self.masqueradeMark)], verdict: .snat(address: address.value),
                        comment: "externalTrafficPolicy Cluster to another node")
                ]),
        ]
        return Table(name: tableName, family: Self.tableFamily, sets: [map], chains: base + chains)
    }

    /// `external-ns/name/tcp/PORT` (the port's name when it has one), kube-proxy's name without its hash.
    public static func externalChainName(_ service: Service, _ port: ServicePort) -> String {
        "external-\(service.namespace)/\(service.name)/\(port.proto.lowercased)/\(port.name ?? String(port.port))"
    }
}

/// Compiles the lab's load balancer: the router plays the cloud load balancer in front of the
/// nodes, as an instance-target load balancer does, sending each LoadBalancer Service's
/// `LB:port` to `NODE:nodePort` of the nodes `NodePortPath.loadBalancerNodes` names (all under
/// Cluster, those with a local endpoint under Local, as the health-check node port tells a cloud
/// load balancer), chosen by a hash of the source port with its own seed; the client's address is
/// kept (destination NAT only).
///
/// ```
/// table inet kc-LAB-lb {
///   map load-balancer-ips { type ipv4_addr . inet_proto . inet_service : verdict; }
///   chain nat-prerouting { type nat hook prerouting priority -100; ip daddr . meta l4proto . th dport vmap @load-balancer-ips }
///   chain lb-ns/web/tcp/http { jhash th sport mod 2 seed 0x6c62 == 0 goto lb-ns/web/tcp/http__node-0; ... }
///   chain lb-ns/web/tcp/http__node-0 { dnat ip to 100.64.0.2:30086 }
/// }
/// ```
public struct LoadBalancerCompiler: Sendable {
    public var labName: String

    public init(labName: String) { self.labName = labName }

    /// `kc-LAB-lb`, in the router's namespace.
    public var tableName: String { "kc-\(labName)-lb" }

    /// The family of `tableName`.
    public static let tableFamily: TableFamily = .inet

    public static let loadBalancerMap = "load-balancer-ips"

    /// The router's table, or nil when no LoadBalancer Service has an address and node ports.
    public func compile(_ cluster: Cluster) -> Table? {
        let services = cluster.sortedServices.filter { $0.kind == .loadBalancer && $0.loadBalancerIngress != nil }
        var map = NamedSet(name: Self.loadBalancerMap, key: [.ipv4Address, .inetProto, .inetService], data: .verdict)
        var chains: [Chain] = []
        var sourceSets: [NamedSet] = []
        for service in services {
            guard let ingress = service.loadBalancerIngress else { continue }
            // loadBalancerSourceRanges: clients outside them are dropped before any node is picked.
            var firewall: [Rule] = []
            let ranges = service.ipv4SourceRanges
            if !ranges.isEmpty {
                let setName = "lb-sources-\(service.namespace)/\(service.name)"
                sourceSets.append(
                    NamedSet(
                        name: setName, key: [.ipv4Address], interval: true,
                        elements: ranges.map { .prefix($0.network, length: UInt8($0.prefixLength)) }))
                firewall.append(
                    Rule(
                        [.saddrInSet(setName, negated: true)], counter: true, verdict: .drop,
                        comment: "\(service.key) outside loadBalancerSourceRanges"))
            }
            for port in service.ports {
                guard let nodePort = port.nodePort else { continue }
                let portName = "\(service.namespace)/\(service.name)/\(port.proto.lowercased)/\(port.name ?? String(port.port))"
                map.elements.append(
                    .mapping([.ipv4(ingress.value), .proto(port.proto.number), .port(UInt16(port.port))], .goto("lb-\(portName)")))
                let nodes = NodePortPath.loadBalancerNodes(cluster, service, port)
                var rules = firewall
                if nodes.isEmpty {
                    rules.append(Rule(counter: true, verdict: .drop, comment: "\(service.key) \(port.protocolPort) has no healthy node"))
                }
                for (index, node) in nodes.enumerated() {
                    let nodeChain = "lb-\(portName)__node-\(node)"
                    rules.append(
                        Rule(
                            [.sportHash(modulus: UInt32(nodes.count), seed: NodePortPath.loadBalancerSeed, value: UInt32(index))],
                            verdict: .goto(nodeChain)))
                    chains.append(
                        Chain(
                            name: nodeChain,
                            rules: [
                                Rule(
                                    [.l4proto(port.proto.number)],
                                    verdict: .dnat(address: LabNetwork.nodeAddress(node).value, port: UInt16(nodePort)),
                                    comment: "\(service.key) -> node-\(node)")
                            ]))
                }
                chains.append(Chain(name: "lb-\(portName)", rules: rules))
            }
        }
        guard !map.elements.isEmpty else { return nil }
        let dispatch = Chain(
            name: "nat-prerouting", base: BaseChain(type: .nat, hook: .prerouting, priority: -100),
            rules: [Rule(verdict: .vmap([.daddr, .l4proto, .dport], map: Self.loadBalancerMap), comment: "load balancers")])
        return Table(name: tableName, family: Self.tableFamily, sets: sourceSets + [map], chains: [dispatch] + chains)
    }
}
