import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// `internalTrafficPolicy: Local` in the compiled proxy: each node's table spreads a Local Service
/// over that node's endpoints only and drops where it has none (kube-proxy: "has no local
/// endpoints", drop, not reject); Cluster Services are the same on every node.
@Suite("Service proxy compiler: internalTrafficPolicy Local")
struct ServiceProxyLocalTests {
    /// prod/web-0 on node-0, prod/web-1 on node-1, behind prod/web (Local) and prod/all (Cluster).
    static func cluster(onlyNode0: Bool = false) -> Cluster {
        var cluster = Cluster()
        cluster.nodeCount = 2
        for index in 0..<2 {
            let pod = Pod(namespace: "prod", name: "web-\(index)", labels: ["app": "web"], ports: [ContainerPort(port: 8080)])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
            cluster.podNodes[pod.key] = onlyNode0 ? 0 : index
        }
        var web = Service(
            namespace: "prod", name: "web", selector: ["app": "web"], address: .ip(IPv4(0x0A60_000B)),
            ports: [ServicePort(port: 80, target: .number(8080))])
        web.internalTrafficPolicy = .local
        cluster.services[web.key] = web
        let all = Service(
            namespace: "prod", name: "all", selector: ["app": "web"], address: .ip(IPv4(0x0A60_000C)),
            ports: [ServicePort(port: 80, target: .number(8080))])
        cluster.services[all.key] = all
        return cluster
    }

    static func text(_ table: Table?, chain: String) -> String {
        guard let table, let found = table.chain(named: chain) else { return "(none)" }
        let listed = Ruleset(tables: [Table(name: table.name, family: table.family, sets: [], chains: [found])]).nftText()
        return listed.split(separator: "\n").filter { !$0.isEmpty }.dropFirst().dropLast().joined(separator: "\n")
    }

    @Test func eachNodeHoldsItsOwnEndpoint() throws {
        let compiler = ServiceProxyCompiler(labName: "t", placement: .pod)
        let node0 = compiler.compile(Self.cluster(), node: 0)
        let node1 = compiler.compile(Self.cluster(), node: 1)
        #expect(
            Self.text(node0, chain: "service-prod/web/tcp/80") == """
                	chain service-prod/web/tcp/80 {
                		jhash th sport mod 1 seed 0x6b63 == 0 goto endpoint-prod/web/tcp/80__10.244.0.2/8080
                	}
                """)
        #expect(
            Self.text(node1, chain: "service-prod/web/tcp/80") == """
                	chain service-prod/web/tcp/80 {
                		jhash th sport mod 1 seed 0x6b63 == 0 goto endpoint-prod/web/tcp/80__10.244.0.3/8080
                	}
                """)
        #expect(node0?.chain(named: "endpoint-prod/web/tcp/80__10.244.0.3/8080") == nil, "node-0 has no chain to node-1's pod")
        // The Cluster Service spreads over both endpoints on both nodes.
        for table in [node0, node1] {
            #expect(Self.text(table, chain: "service-prod/all/tcp/80").contains("jhash th sport mod 2"))
        }
    }

    @Test func aNodeWithoutALocalEndpointDrops() throws {
        let compiler = ServiceProxyCompiler(labName: "t", placement: .node)
        let node1 = try #require(compiler.compile(Self.cluster(onlyNode0: true), node: 1))
        #expect(
            Self.text(node1, chain: "service-prod/web/tcp/80") == """
                	chain service-prod/web/tcp/80 {
                		counter drop comment "prod/web TCP/80 has no local endpoints on node-1"
                	}
                """)
        // The ClusterIP stays in the map: the packet is dropped by the proxy, not routed on.
        let map = try #require(node1.sets.first { $0.name == ServiceProxyCompiler.serviceMap })
        #expect(map.elements.count == 2)
        let node0 = compiler.compile(Self.cluster(onlyNode0: true), node: 0)
        #expect(Self.text(node0, chain: "service-prod/web/tcp/80").contains("jhash th sport mod 2"))
    }

    @Test func clusterOnlyLabsCompileTheSameTableOnEveryNode() {
        var cluster = Self.cluster()
        cluster.services[ObjectKey("prod", "web")]?.internalTrafficPolicy = .cluster
        let compiler = ServiceProxyCompiler(labName: "t", placement: .pod)
        #expect(compiler.compile(cluster, node: 0) == compiler.compile(cluster, node: 1))
    }
}
