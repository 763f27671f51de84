import KeycardModel
import KeycardRuleset
import KeycardValues

/// Compiles the cluster's Services to the lab's Service proxy: one nftables table doing DNAT in the
/// layout of kube-proxy's nftables mode (kubernetes/kubernetes pkg/proxy/nftables/proxier.go):
///
/// ```
/// table inet kc-LAB-svc {
///   map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }
///   chain nat-output { type nat hook output priority -100; ip daddr . meta l4proto . th dport vmap @service-ips }
///   chain service-ns/web/tcp/http { jhash th sport mod 2 seed 0x6b63 == 0 goto endpoint-ns/web/tcp/http__10.244.0.2/8080; ... }
///   chain endpoint-ns/web/tcp/http__10.244.0.2/8080 { dnat ip to 10.244.0.2:8080 }
/// }
/// ```
///
/// The same table goes into every pod namespace (pod placement: hook `output`, so the pod's own
/// filter at priority 0 sees the backend pod and target port) or every node namespace (node
/// placement: hook `prerouting`, before the forward filter). Conntrack un-translates replies.
/// A Service with `internalTrafficPolicy: Local` makes the table depend on the node its clients
/// run on (`ClusterIPPath`): that node's endpoints only, and a counted drop ("has no local
/// endpoints", kube-proxy's `internalTrafficFilterVerdict = "drop"`) when it has none; so each
/// node's namespace, or each pod's namespace, gets the table of its node.
///
/// Departures from kube-proxy, on purpose: the endpoint is picked with a Jenkins hash of the
/// source port (`ServiceHash`), not `numgen random`, so a prober can aim at each backend; a Service
/// port without endpoints drops (kube-proxy rejects with ICMP); no masquerade (keycard has no
/// hairpin or node-port traffic to fix up). `ServiceEnforcement.preDNAT` does not change this table:
/// the pods' egress chains move before it (priority -150), as CNIs that enforce before Service
/// translation do.
public struct ServiceProxyCompiler: Sendable {
    public var labName: String
    public var placement: Placement

    public init(labName: String, placement: Placement) {
        self.labName = labName
        self.placement = placement
    }

    /// `kc-LAB-svc`: next to the policy table `kc-LAB`, owned by keycard like it.
    public var tableName: String { "kc-\(labName)-svc" }

    /// The family of `tableName`: one table for IPv4 whichever the hook.
    public static let tableFamily: TableFamily = .inet

    /// The map the dispatch rule looks up.
    public static let serviceMap = "service-ips"

    /// The proxy table for `cluster` on node `node` (the node of the pods whose connections it
    /// translates; only Local Services differ between nodes), or nil when no Service has a ClusterIP.
    public func compile(_ cluster: Cluster, node: Int = 0) -> Table? {
        let services = cluster.sortedServices.filter { $0.clusterIP != nil }
        guard !services.isEmpty else { return nil }
        var map = NamedSet(name: Self.serviceMap, key: [.ipv4Address, .inetProto, .inetService], data: .verdict)
        var chains: [Chain] = []
        for service in services {
            guard let clusterIP = service.clusterIP else { continue }
            for port in service.ports {
                let serviceChain = Self.serviceChainName(service, port)
                map.elements.append(
                    .mapping([.ipv4(clusterIP.value), .proto(port.proto.number), .port(UInt16(port.port))], .goto(serviceChain)))
                let endpoints = ClusterIPPath.endpoints(cluster, service, port, node: node)
                let why =
                    endpoints.isEmpty && !cluster.backends(of: service, port: port).isEmpty
                    ? "has no local endpoints on node-\(node)" : "has no endpoints"
                chains += ServiceEndpointChains.chains(serviceChain, service, port, endpoints: endpoints, none: why)
            }
        }
        let hook: BaseChain.Hook = placement == .pod ? .output : .prerouting
        // dstnat. The kernel runs every nat chain from its own hook at -100 whatever the chain's
        // priority (which only orders nat chains), so pre-dnat moves the policy chain instead
        // (`PolicyCompiler.egressPriority`).
        let priority: Int32 = -100
        let dispatch = Chain(
            name: "nat-\(hook.rawValue)", base: BaseChain(type: .nat, hook: hook, priority: priority),
            rules: [Rule(verdict: .vmap([.daddr, .l4proto, .dport], map: Self.serviceMap), comment: "services")])
        return Table(name: tableName, family: Self.tableFamily, sets: [map], chains: [dispatch] + chains)
    }

    /// `service-ns/name/tcp/PORT` (the port's name when it has one), as kube-proxy names it without
    /// its hash prefix.
    public static func serviceChainName(_ service: Service, _ port: ServicePort) -> String {
        "service-\(service.namespace)/\(service.name)/\(port.proto.lowercased)/\(port.name ?? String(port.port))"
    }

    /// `endpoint-ns/name/tcp/PORT__IP/TARGET`.
    public static func endpointChainName(_ service: Service, _ port: ServicePort, _ backend: ServiceBackend) -> String {
        "endpoint-\(service.namespace)/\(service.name)/\(port.proto.lowercased)/\(port.name ?? String(port.port))__\(backend.address)/\(backend.target.port)"
    }
}
