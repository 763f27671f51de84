import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

@Suite("Node-port and load-balancer compilers: kube-proxy's external chains, Cluster vs Local, the router as load balancer")
struct NodePortCompilerTests {
    /// Two nodes; web-0 on node-0 and web-1 on node-1; `web` (Cluster, node port 30080), `local`
    /// (Local, 30081) and `lb` (LoadBalancer, Local, 30082, 192.0.2.1).
    static func cluster() -> Cluster {
        var cluster = Cluster()
        cluster.nodeCount = 2
        for index in 0..<2 {
            let pod = Pod(namespace: "prod", name: "web-\(index)", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index) * 0x80)
            cluster.podNodes[pod.key] = index
        }
        var web = Service(
            namespace: "prod", name: "web", kind: .nodePort, selector: ["app": "web"], address: .ip(IPv4(0x0A60_000B)),
            ports: [ServicePort(name: "http", port: 80, target: .name("http"), nodePort: 30080)])
        web.externalTrafficPolicy = .cluster
        var local = web
        local.name = "local"
        local.externalTrafficPolicy = .local
        local.ports[0].nodePort = 30081
        var lb = local
        lb.name = "lb"
        lb.kind = .loadBalancer
        lb.ports[0].nodePort = 30082
        lb.loadBalancerIngress = IPv4(0xC000_0201)
        for service in [web, local, lb] { cluster.services[service.key] = service }
        return cluster
    }

    static func text(_ table: Table) -> String {
        Ruleset(tables: [table]).nftText().split(separator: "\n").filter { !$0.isEmpty }.joined(separator: "\n")
    }

    @Test func nodeZeroTable() throws {
        let table = try #require(NodePortCompiler(labName: "t").compile(Self.cluster(), node: 0))
        #expect(
            Self.text(table) == """
                table inet kc-t-nodeport {
                	map node-ports {
                		type ipv4_addr . inet_proto . inet_service : verdict
                		elements = { 100.64.0.2 . tcp . 30082 : goto external-prod/lb/tcp/http, 100.64.0.2 . tcp . 30081 : goto external-prod/local/tcp/http, 100.64.0.2 . tcp . 30080 : goto external-prod/web/tcp/http }
                	}
                	chain nat-prerouting {
                		type nat hook prerouting priority -100; policy accept;
                		ip daddr . meta l4proto . th dport vmap @node-ports comment "node ports"
                	}
                	chain nat-output {
                		type nat hook output priority -100; policy accept;
                		ip daddr . meta l4proto . th dport vmap @node-ports comment "node ports"
                	}
                	chain nat-postrouting {
                		type nat hook postrouting priority 100; policy accept;
                		meta mark 0x00004000 snat ip to 100.64.0.2 comment "externalTrafficPolicy Cluster to another node"
                	}
                	chain endpoint-prod/lb/tcp/http__10.244.0.2/8080 {
                		meta l4proto tcp dnat ip to 10.244.0.2:8080 comment "prod/lb -> prod/web-0"
                	}
                	chain external-prod/lb/tcp/http {
                		jhash th sport mod 1 seed 0x6b63 == 0 goto endpoint-prod/lb/tcp/http__10.244.0.2/8080
                	}
                	chain endpoint-prod/local/tcp/http__10.244.0.2/8080 {
                		meta l4proto tcp dnat ip to 10.244.0.2:8080 comment "prod/local -> prod/web-0"
                	}
                	chain external-prod/local/tcp/http {
                		jhash th sport mod 1 seed 0x6b63 == 0 goto endpoint-prod/local/tcp/http__10.244.0.2/8080
                	}
                	chain endpoint-prod/web/tcp/http__10.244.0.2/8080 {
                		meta l4proto tcp dnat ip to 10.244.0.2:8080 comment "prod/web -> prod/web-0"
                	}
                	chain endpoint-prod/web/tcp/http__10.244.0.130/8080 {
                		meta mark set 0x00004000
                		meta l4proto tcp dnat ip to 10.244.0.130:8080 comment "prod/web -> prod/web-1"
                	}
                	chain external-prod/web/tcp/http {
                		jhash th sport mod 2 seed 0x6b63 == 0 goto endpoint-prod/web/tcp/http__10.244.0.2/8080
                		jhash th sport mod 2 seed 0x6b63 == 1 goto endpoint-prod/web/tcp/http__10.244.0.130/8080
                	}
                }
                """)
    }

    @Test func nodeOneMarksTheOtherEndpointAndLocalWithoutEndpointsDrops() throws {
        let one = try #require(NodePortCompiler(labName: "t").compile(Self.cluster(), node: 1))
        #expect(one.chain(named: "nat-postrouting")?.rules.map(\.verdict) == [.snat(address: LabNetwork.nodeAddress(1).value)])
        #expect(one.chain(named: "endpoint-prod/web/tcp/http__10.244.0.2/8080")?.rules.first?.verdict == .setMark(0x4000))
        #expect(one.chain(named: "endpoint-prod/web/tcp/http__10.244.0.130/8080")?.rules.count == 1, "its own endpoint: no mark")
        var cluster = Self.cluster()
        cluster.pods[ObjectKey("prod", "web-1")] = nil
        let empty = try #require(NodePortCompiler(labName: "t").compile(cluster, node: 1))
        let drop = try #require(empty.chain(named: "external-prod/local/tcp/http")?.rules.first)
        #expect(drop.verdict == .drop && drop.comment == "prod/local TCP/80 has no endpoint on node-1")
        #expect(NodePortCompiler(labName: "t").compile(Cluster(), node: 0) == nil)
    }

    @Test func routerSendsTheLoadBalancerToNodesWithLocalEndpoints() throws {
        let table = try #require(LoadBalancerCompiler(labName: "t").compile(Self.cluster()))
        #expect(
            Self.text(table) == """
                table inet kc-t-lb {
                	map load-balancer-ips {
                		type ipv4_addr . inet_proto . inet_service : verdict
                		elements = { 192.0.2.1 . tcp . 80 : goto lb-prod/lb/tcp/http }
                	}
                	chain nat-prerouting {
                		type nat hook prerouting priority -100; policy accept;
                		ip daddr . meta l4proto . th dport vmap @load-balancer-ips comment "load balancers"
                	}
                	chain lb-prod/lb/tcp/http__node-0 {
                		meta l4proto tcp dnat ip to 100.64.0.2:30082 comment "prod/lb -> node-0"
                	}
                	chain lb-prod/lb/tcp/http__node-1 {
                		meta l4proto tcp dnat ip to 100.64.0.6:30082 comment "prod/lb -> node-1"
                	}
                	chain lb-prod/lb/tcp/http {
                		jhash th sport mod 2 seed 0x6c62 == 0 goto lb-prod/lb/tcp/http__node-0
                		jhash th sport mod 2 seed 0x6c62 == 1 goto lb-prod/lb/tcp/http__node-1
                	}
                }
                """)
        var cluster = Self.cluster()
        cluster.pods[ObjectKey("prod", "web-0")] = nil
        let one = try #require(LoadBalancerCompiler(labName: "t").compile(cluster))
        #expect(one.chain(named: "lb-prod/lb/tcp/http")?.rules.count == 1, "Local: only node-1 has an endpoint")
        #expect(one.chain(named: "lb-prod/lb/tcp/http__node-0") == nil)
        cluster.services[ObjectKey("prod", "lb")]?.loadBalancerIngress = nil
        #expect(LoadBalancerCompiler(labName: "t").compile(cluster) == nil, "pending: nothing to balance")
    }

    @Test func nodeAddressesAreTheTopologysUplinks() {
        #expect(LabNetwork.nodeAddress(0) == IPv4(0x6440_0002))
        #expect(LabNetwork.nodeAddress(3) == IPv4(0x6440_000E))
    }

    /// A LoadBalancer with `allocateLoadBalancerNodePorts: false` whose port still holds a node
    /// port (pinned, or kept from before) is served on every node and reached through the
    /// router: kube-proxy programs every port with a node port (NP-73).
    @Test func aLoadBalancerAllocatingNoNodePortsServesTheOnesItHolds() throws {
        var cluster = Self.cluster()
        let key = ObjectKey("prod", "lb")
        cluster.services[key]?.allocateLoadBalancerNodePorts = false
        for node in 0..<2 {
            let table = try #require(NodePortCompiler(labName: "t").compile(cluster, node: node))
            #expect(Self.text(table).contains(". tcp . 30082 : goto external-prod/lb/tcp/http"))
        }
        let router = try #require(LoadBalancerCompiler(labName: "t").compile(cluster))
        #expect(Self.text(router).contains("dnat ip to 100.64.0.2:30082"))
    }
}
