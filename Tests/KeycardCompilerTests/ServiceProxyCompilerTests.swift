import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

@Suite("Service proxy compiler: kube-proxy's nftables layout, endpoint picked by source-port hash")
struct ServiceProxyCompilerTests {
    static func cluster(backends: Int) -> Cluster {
        var cluster = Cluster()
        for index in 0..<backends {
            let pod = Pod(namespace: "prod", name: "web-\(index)", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
        }
        let web = Service(
            namespace: "prod", name: "web", selector: ["app": "web"], address: .ip(IPv4(0x0A60_000B)),
            ports: [ServicePort(name: "http", port: 80, target: .name("http")), ServicePort(name: "dns", proto: .udp, port: 53)])
        cluster.services[web.key] = web
        cluster.services[ObjectKey("prod", "h")] = Service(namespace: "prod", name: "h", selector: ["app": "web"], address: .headless)
        return cluster
    }

    @Test func podPlacementTable() throws {
        let table = try #require(ServiceProxyCompiler(labName: "t", placement: .pod).compile(Self.cluster(backends: 2)))
        #expect(
            Ruleset(tables: [table]).nftText().split(separator: "\n").filter { !$0.isEmpty }.joined(separator: "\n") == """
                table inet kc-t-svc {
                	map service-ips {
                		type ipv4_addr . inet_proto . inet_service : verdict
                		elements = { 10.96.0.11 . tcp . 80 : goto service-prod/web/tcp/http, 10.96.0.11 . udp . 53 : goto service-prod/web/udp/dns }
                	}
                	chain nat-output {
                		type nat hook output priority -100; policy accept;
                		ip daddr . meta l4proto . th dport vmap @service-ips comment "services"
                	}
                	chain endpoint-prod/web/tcp/http__10.244.0.2/8080 {
                		meta l4proto tcp dnat ip to 10.244.0.2:8080 comment "prod/web -> prod/web-0"
                	}
                	chain endpoint-prod/web/tcp/http__10.244.0.3/8080 {
                		meta l4proto tcp dnat ip to 10.244.0.3:8080 comment "prod/web -> prod/web-1"
                	}
                	chain service-prod/web/tcp/http {
                		jhash th sport mod 2 seed 0x6b63 == 0 goto endpoint-prod/web/tcp/http__10.244.0.2/8080
                		jhash th sport mod 2 seed 0x6b63 == 1 goto endpoint-prod/web/tcp/http__10.244.0.3/8080
                	}
                	chain endpoint-prod/web/udp/dns__10.244.0.2/53 {
                		meta l4proto udp dnat ip to 10.244.0.2:53 comment "prod/web -> prod/web-0"
                	}
                	chain endpoint-prod/web/udp/dns__10.244.0.3/53 {
                		meta l4proto udp dnat ip to 10.244.0.3:53 comment "prod/web -> prod/web-1"
                	}
                	chain service-prod/web/udp/dns {
                		jhash th sport mod 2 seed 0x6b63 == 0 goto endpoint-prod/web/udp/dns__10.244.0.2/53
                		jhash th sport mod 2 seed 0x6b63 == 1 goto endpoint-prod/web/udp/dns__10.244.0.3/53
                	}
                }
                """)
    }

    @Test func nodePlacementPreDNATAndNoEndpoints() throws {
        let node = try #require(ServiceProxyCompiler(labName: "t", placement: .node).compile(Self.cluster(backends: 1)))
        #expect(node.chains[0].base == BaseChain(type: .nat, hook: .prerouting, priority: -100))
        var policies = PolicyCompiler(labName: "t", placement: .pod)
        policies.egressPriority = PolicyCompiler.preDNATEgressPriority
        let client = ObjectKey("prod", "web-0")
        let egress = policies.compile(Self.cluster(backends: 1), nodes: [client: 0], nodeCount: 1)[.pod(client)]?.chain(
            named: "policy-egress")
        #expect(egress?.base == BaseChain(hook: .output, priority: -150), "pre-dnat: the pod's egress before the nat hook (-100)")
        let empty = try #require(ServiceProxyCompiler(labName: "t", placement: .pod).compile(Self.cluster(backends: 0)))
        #expect(empty.chain(named: "service-prod/web/tcp/http")?.rules.map(\.verdict) == [.drop])
        #expect(ServiceProxyCompiler(labName: "t", placement: .pod).compile(Cluster()) == nil)
    }

    @Test func hashPicksEveryEndpointAndAimsExactly() {
        for count in 1...5 {
            var seen = Set<Int>()
            for port in UInt16(32768)..<UInt16(33768) { seen.insert(ServiceHash.endpointIndex(sourcePort: port, count: count)) }
            #expect(seen == Set(0..<count), "1,000 source ports reach all \(count) endpoints")
            for index in 0..<count {
                let port = ServiceHash.sourcePort(landingOn: index, of: count, in: 40000...60000)
                #expect(port.map { ServiceHash.endpointIndex(sourcePort: $0, count: count) } == index)
            }
        }
    }
}
