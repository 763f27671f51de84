import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

/// prod/client, and prod/web-1, prod/web-2 (app: web, port `http` = 8080) behind prod/web
/// (ClusterIP 10.96.1.1, port 80 -> targetPort http).
private func serviceCluster(_ policies: [NetworkPolicy]) -> (Cluster, Service) {
    var cluster = Cluster()
    cluster.namespaces["prod"] = Namespace(name: "prod")
    let pods = [
        Pod(namespace: "prod", name: "client", labels: ["app": "client"]),
        Pod(namespace: "prod", name: "web-1", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)]),
        Pod(namespace: "prod", name: "web-2", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 8080)]),
    ]
    for (index, pod) in pods.enumerated() {
        cluster.pods[pod.key] = pod
        cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
    }
    for policy in policies { cluster.policies[policy.key] = policy }
    let service = Service(
        namespace: "prod", name: "web", selector: ["app": "web"], address: .ip(IPv4(0x0A60_000B)),
        ports: [ServicePort(name: "http", port: 80, target: .name("http"))])
    cluster.services[service.key] = service
    return (cluster, service)
}

@Suite("Policy model through a Service: judged on the backend pod and its target port")
struct ServiceModelTests {
    let egressToWeb = policy(
        "prod", "client-egress", select: sel(["app": "client"]), types: [.egress],
        egress: [rule([.pods(sel(["app": "web"]))], ports: [.tcp(8080)])])

    @Test func connectionToTheClusterIPIsJudgedPerBackend() {
        let (cluster, service) = serviceCluster([egressToWeb])
        let verdicts = PolicyEngine(cluster).evaluate(from: at("prod/client"), toService: service, port: service.ports[0])
        #expect(verdicts.map(\.backend.pod.name) == ["web-1", "web-2"])
        #expect(verdicts.map(\.backend.target) == [tcp(8080), tcp(8080)], "targetPort http resolved on each backend")
        #expect(verdicts.allSatisfy { $0.verdict.decision == .allow })
        #expect(verdicts.allSatisfy { $0.verdict.to == at("prod/\($0.backend.pod.name)") })
    }

    @Test func aPolicyOnTheServicePortAllowsNothing() {
        let onServicePort = policy(
            "prod", "web-ingress", select: sel(["app": "web"]), types: [.ingress],
            ingress: [rule([.pods(sel(["app": "client"]))], ports: [.tcp(80)])])
        let (cluster, service) = serviceCluster([onServicePort])
        let verdicts = PolicyEngine(cluster).evaluate(from: at("prod/client"), toService: service, port: service.ports[0])
        #expect(verdicts.count == 2)
        #expect(verdicts.allSatisfy { $0.verdict.decision == .deny && $0.verdict.ingress.outcome == .denied })
    }

    @Test func preDNATJudgesEgressOnTheClusterIP() {
        let (cluster, service) = serviceCluster([egressToWeb])
        let engine = PolicyEngine(cluster)
        let post = engine.evaluate(from: at("prod/client"), toService: service, port: service.ports[0], enforcement: .postDNAT)
        let pre = engine.evaluate(from: at("prod/client"), toService: service, port: service.ports[0], enforcement: .preDNAT)
        #expect(post.allSatisfy { $0.verdict.decision == .allow })
        #expect(pre.allSatisfy { $0.verdict.decision == .deny && $0.verdict.egress.outcome == .denied })
        // Without an egress policy the client is not isolated: pre-dnat changes nothing.
        let (open, openService) = serviceCluster([])
        #expect(
            PolicyEngine(open).evaluate(from: at("prod/client"), toService: openService, port: openService.ports[0], enforcement: .preDNAT)
                .allSatisfy { $0.verdict.decision == .allow })
    }

    @Test func backendsFollowLabelsAndNamedPorts() {
        var (cluster, service) = serviceCluster([])
        cluster.pods[ObjectKey("prod", "web-2")]?.ports = []
        #expect(cluster.backends(of: service, port: service.ports[0]).map(\.pod.name) == ["web-1"], "web-2 has no port named http")
        cluster.pods[ObjectKey("prod", "web-1")]?.labels = [:]
        #expect(cluster.backends(of: service, port: service.ports[0]).isEmpty)
        service.selector = nil
        #expect(cluster.backendPods(of: service).isEmpty, "no selector, no endpoints")
    }
}

/// Host-network backends share their node's address: kube-proxy keeps one endpoint per `IP:port`
/// (pkg/proxy endpointslicecache.go, `addEndpoints`), so two such pods on one node are one
/// endpoint (and the lab programs one endpoint chain), two on two nodes are two.
@Suite("Service endpoints of host-network pods")
struct HostNetworkEndpointTests {
    static func cluster(nodes: [Int]) -> (Cluster, Service) {
        var cluster = Cluster()
        cluster.namespaces["infra"] = Namespace(name: "infra")
        cluster.nodeCount = 2
        for (index, node) in nodes.enumerated() {
            var agent = Pod(namespace: "infra", name: "agent-\(index)", labels: ["app": "agent"])
            agent.hostNetwork = true
            agent.nodeName = "node-\(node)"
            cluster.pods[agent.key] = agent
            cluster.addresses[agent.key] = LabNetwork.nodeAddress(node)
            cluster.podNodes[agent.key] = node
        }
        let service = Service(
            namespace: "infra", name: "agent", selector: ["app": "agent"], address: .ip(IPv4(0x0A60_000C)),
            ports: [ServicePort(port: 80, target: .number(9100))])
        cluster.services[service.key] = service
        return (cluster, service)
    }

    @Test func twoOnOneNodeAreOneEndpointTheFirstPods() {
        let (cluster, service) = Self.cluster(nodes: [0, 0])
        let backends = cluster.backends(of: service, port: service.ports[0])
        #expect(backends.map(\.pod.name) == ["agent-0"])
        #expect(cluster.backend(ObjectKey("infra", "agent-0"), of: service, port: service.ports[0]) != nil)
        #expect(cluster.backend(ObjectKey("infra", "agent-1"), of: service, port: service.ports[0]) == nil)
    }

    @Test func twoOnTwoNodesAreTwoEndpoints() {
        let (cluster, service) = Self.cluster(nodes: [0, 1])
        #expect(cluster.backends(of: service, port: service.ports[0]).map(\.pod.name) == ["agent-0", "agent-1"])
        #expect(cluster.backend(ObjectKey("infra", "agent-1"), of: service, port: service.ports[0]) != nil)
    }
}

/// A named port toward host-network pods resolves over every host-network pod of the node (they
/// share its address), so the verdict of one packet does not depend on which of them, or the
/// node, a probe names.
struct HostNetworkNamedPortTests {
    @Test func aNamedPortResolvesOverTheNodesHostNetworkPods() {
        var (cluster, client) = HostNetworkWorld.cluster([
            ("agent", [ContainerPort(port: 9200)]), ("exporter", [ContainerPort(name: "metrics", port: 9100)]),
        ])
        let out = policy(
            "x", "out", select: sel([:]), types: [.egress],
            egress: [rule([.block("100.64.0.0/16")], ports: [.named("metrics")])])
        cluster.policies[out.key] = out
        let engine = PolicyEngine(cluster)
        for destination in [Endpoint.pod(ObjectKey("mon", "exporter")), .pod(ObjectKey("mon", "agent")), .node("node-0")] {
            #expect(engine.evaluate(fromSource: client, to: destination, port: tcp(9100)).decision == .allow, "\(destination)")
            #expect(engine.evaluate(fromSource: client, to: destination, port: tcp(9200)).decision == .deny, "\(destination)")
        }
    }
}

/// kube-proxy serves only Services without `service.kubernetes.io/service-proxy-name` and
/// `service.kubernetes.io/headless` (its informers' label selector): such a Service has no
/// endpoints in the lab, whatever it selects.
struct UnproxiedServiceTests {
    @Test(arguments: ["service.kubernetes.io/service-proxy-name", "service.kubernetes.io/headless"])
    func aServiceAnotherProxyServesHasNoEndpoints(_ label: String) {
        var (cluster, service) = serviceCluster([])
        #expect(cluster.backends(of: service, port: service.ports[0]).count == 2)
        service.labels[label] = label.hasSuffix("headless") ? "" : "foo-bar"
        cluster.services[service.key] = service
        #expect(!service.isProxied)
        #expect(cluster.backends(of: service, port: service.ports[0]).isEmpty)
        #expect(cluster.backend(ObjectKey("prod", "web-1"), of: service, port: service.ports[0]) == nil)
        #expect(PolicyEngine(cluster).evaluate(from: at("prod/client"), toService: service, port: service.ports[0]).isEmpty)
    }
}

/// `trafficDistribution: PreferSameNode`: a client's ClusterIP traffic goes to its own node's
/// endpoints, or to every endpoint when its node has none (kube-proxy `CategorizeEndpoints` with
/// the EndpointSlice controller's node hints).
struct PreferSameNodeTests {
    @Test func aNodesClientsReachItsOwnEndpointsOrAllWhenItHasNone() {
        var (cluster, service) = serviceCluster([])
        cluster.nodeCount = 3
        cluster.podNodes = [ObjectKey("prod", "client"): 2, ObjectKey("prod", "web-1"): 0, ObjectKey("prod", "web-2"): 1]
        service.prefersSameNode = true
        cluster.services[service.key] = service
        let port = service.ports[0]
        #expect(ClusterIPPath.endpoints(cluster, service, port, node: 0).map(\.pod.name) == ["web-1"])
        #expect(ClusterIPPath.endpoints(cluster, service, port, node: 1).map(\.pod.name) == ["web-2"])
        #expect(ClusterIPPath.endpoints(cluster, service, port, node: 2).map(\.pod.name) == ["web-1", "web-2"])
        let web2 = cluster.backends(of: service, port: port)[1]
        #expect(!ClusterIPPath.reaches(cluster, from: .pod(ObjectKey("prod", "web-1")), service, port, backend: web2))
        #expect(ClusterIPPath.reaches(cluster, from: .pod(ObjectKey("prod", "client")), service, port, backend: web2))
    }

    /// Node-port and load-balancer traffic under Cluster: the node it enters sends it to its own
    /// endpoints when it has any (no masquerade then), else to every endpoint; Local is unchanged.
    @Test func aNodePortOnANodeWithEndpointsReachesOnlyThem() {
        var (cluster, service) = serviceCluster([])
        cluster.nodeCount = 3
        cluster.podNodes = [ObjectKey("prod", "client"): 2, ObjectKey("prod", "web-1"): 0, ObjectKey("prod", "web-2"): 1]
        service.kind = .nodePort
        service.externalTrafficPolicy = .cluster
        service.ports[0].nodePort = 30080
        service.prefersSameNode = true
        cluster.services[service.key] = service
        let port = service.ports[0]
        let (web1, web2) = (cluster.backends(of: service, port: port)[0], cluster.backends(of: service, port: port)[1])
        #expect(NodePortPath.endpoints(cluster, service, port, node: 0) == [web1])
        #expect(NodePortPath.endpoints(cluster, service, port, node: 2) == [web1, web2])
        #expect(!NodePortPath.masquerades(cluster, service, backend: web1, node: 0))
        #expect(NodePortPath.masquerades(cluster, service, backend: web1, node: 2))
        #expect(cluster.exposedPath(service.key, .node(0), backend: web2.pod, port: tcp(30080)) == nil)
        #expect(cluster.exposedPath(service.key, .node(2), backend: web2.pod, port: tcp(30080))?.sourceNAT == LabNetwork.nodeAddress(2))
        #expect(NodePortPath.loadBalancerEntry(cluster, service, port, backend: web2) == 2)
        service.externalTrafficPolicy = .local
        cluster.services[service.key] = service
        #expect(NodePortPath.endpoints(cluster, service, port, node: 2).isEmpty)
    }
}
