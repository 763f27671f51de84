import KeycardModel
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardCommands

/// `keycard explain --to svc/NS/NAME@node-N`: the path says which node translated the connection
/// and which address the endpoint's policies saw; the ingress line names that address and the
/// target port the policy judged.
@Suite("explain through a node port")
struct ExposedExplanationTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: explain-nodeport}
        spec:
          lab: {nodes: 2}
          externals: [{name: client, ip: 203.0.113.50}]
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: local, namespace: default}, spec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30081}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: internet, namespace: default}
              spec:
                podSelector: {}
                ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]
          steps: []
        """

    func explain(_ service: String, _ node: Int, _ port: Int) throws -> String {
        let timeline = try Timeline(ScenarioLoader.parse(Self.scenario, file: "explain.yaml"))
        let cluster = timeline.cluster(afterStep: 0)
        let key = ObjectKey("default", service)
        let backend = ObjectKey("default", "web")
        let to = Endpoint.exposed(key, .node(node), backend: backend)
        let protocolPort = ProtocolPort(.tcp, port)
        var explanation = Explanation(
            PolicyEngine(cluster).evaluate(from: .external("client"), to: to, port: protocolPort), cluster: cluster, afterStep: 0, of: 0)
        explanation.describePath(cluster.exposedPath(key, .node(node), backend: backend, port: protocolPort), entry: .node(node))
        return explanation.text
    }

    @Test func clusterThroughAnotherNodeIsSeenAsThatNode() throws {
        let text = try explain("web", 0, 30080)
        #expect(text.contains(": DENY (through node-0 (externalTrafficPolicy Cluster) to default/web TCP/8080, source-NATed"))
        #expect(text.contains("no ingress rule of these policies allows 100.64.0.2 on TCP/8080"))
    }

    @Test func clusterThroughThePodsNodeKeepsTheClient() throws {
        let text = try explain("web", 1, 30080)
        #expect(
            text.contains(": ALLOW (through node-1 (externalTrafficPolicy Cluster) to default/web TCP/8080, the client's address kept)"))
    }

    @Test func localWithoutAnEndpointHasNoPath() throws {
        let text = try explain("local", 0, 30081)
        #expect(text.contains(": DENY (no path: that node does not forward to that endpoint"))
        #expect(text.contains("no policy: the connection has no path to that endpoint"))
        #expect(!text.contains("isolated by"))
    }
}

/// `keycard rules` prints the node-port tables and the router's load balancer next to the
/// policies (no root needed).
@Suite("rules with node ports")
struct NodePortRulesTests {
    @Test func rulesPrintNodePortsAndTheLoadBalancer() throws {
        let file = RepositoryFiles.absolute("scenarios/external-traffic-policy.yaml")
        let node = try KeycardBinary.run(["rules", file, "--node", "node-0", "--after-step", "0"])
        #expect(node.status == 0)
        #expect(node.stdout.contains("# node-0 node ports, after step 0 of 7"))
        #expect(node.stdout.contains("snat ip to 100.64.0.2"))
        #expect(!node.stdout.contains("# router"))
        let all = try KeycardBinary.run(["rules", file])
        #expect(all.stdout.contains("# node-1 node ports"))
        #expect(all.stdout.contains("# router (the load balancer)"))
        #expect(all.stdout.contains("dnat ip to 100.64.0.6:30087"))
        let pod = try KeycardBinary.run(["rules", file, "--pod", "default/web"])
        #expect(!pod.stdout.contains("node ports"))
    }
}
