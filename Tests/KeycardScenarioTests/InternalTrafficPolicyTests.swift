import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

/// `internalTrafficPolicy: Local`: a connection to the ClusterIP reaches only endpoints on the
/// client's node; a node without one drops it (kube-proxy). The truth table: two nodes, the web
/// pods on node-0 only, a client on each node; the Cluster twin is unchanged.
@Suite("internalTrafficPolicy Local in the model")
struct InternalTrafficPolicyTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: itp}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web-a, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-b, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: api, labels: {app: api}}, spec: {nodeName: node-1, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-0}, spec: {nodeName: node-0, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-1}, spec: {nodeName: node-1, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: agent}, spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: local}, spec: {internalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: cluster}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: spread}, spec: {internalTrafficPolicy: Local, selector: {tier: spread}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [default/client-0, default/client-1], to: [svc/default/local, svc/default/cluster], ports: [TCP/80]}

        """

    func timeline() throws -> Timeline { try Timeline(ScenarioLoader.parse(Self.scenario, file: "itp.yaml")) }

    /// The model's decision for every backend cell of `service` from `client`, by backend name.
    func decisions(_ timeline: Timeline, from client: String, to service: String) -> [String: Decision] {
        var out: [String: Decision] = [:]
        for cell in timeline.cells(ofProbeStep: 1) where cell.from == ObjectKey("default", client) {
            guard case .service(let key, let backend?) = cell.to, key.name == service else { continue }
            out[backend.name] = cell.outcome
        }
        return out
    }

    @Test func theDecoderKeepsThePolicyAndDefaultsItToCluster() throws {
        let cluster = try timeline().cluster(afterStep: 0)
        #expect(cluster.services[ObjectKey("default", "local")]?.internalTrafficPolicy == .local)
        #expect(cluster.services[ObjectKey("default", "cluster")]?.internalTrafficPolicy == .cluster)
    }

    @Test func truthTable() throws {
        let timeline = try timeline()
        // Local: the client on node-0 reaches both node-0 endpoints; node-1 holds none, so its
        // client's probe is one cell with no backend, dropped.
        #expect(decisions(timeline, from: "client-0", to: "local") == ["web-a": .allow, "web-b": .allow])
        #expect(decisions(timeline, from: "client-1", to: "local").isEmpty)
        let dropped = timeline.cells(ofProbeStep: 1).filter {
            $0.from == ObjectKey("default", "client-1") && $0.to.serviceKey == ObjectKey("default", "local")
        }
        #expect(dropped.map(\.to) == [.service(ObjectKey("default", "local"))])
        #expect(dropped.map(\.outcome) == [.deny])
        // Cluster: both clients reach every endpoint.
        #expect(decisions(timeline, from: "client-0", to: "cluster") == ["web-a": .allow, "web-b": .allow])
        #expect(decisions(timeline, from: "client-1", to: "cluster") == ["web-a": .allow, "web-b": .allow])
    }

    @Test func aDroppedCellHasNoPathAndNamesNoPolicy() throws {
        let timeline = try timeline()
        let cell = try #require(
            timeline.cells(ofProbeStep: 1).first {
                $0.from == ObjectKey("default", "client-1") && $0.to == .service(ObjectKey("default", "local"))
            })
        #expect(cell.verdict.hasNoPath)
        // A cell naming another node's backend explicitly has no path either.
        let named = PolicyEngine(timeline.cluster(afterStep: 1)).evaluate(
            fromSource: ObjectKey("default", "client-1"),
            to: .service(ObjectKey("default", "local"), backend: ObjectKey("default", "web-a")), port: ProtocolPort(.tcp, 80))
        #expect(named.hasNoPath)
    }

    /// Endpoints on both nodes (the reviewer's case): a client sees the Local Service reachable
    /// through its own node's endpoint, with no cell towards the other node's.
    @Test func aClientSeesOnlyItsNodesEndpoints() throws {
        let text = Self.scenario.replacingOccurrences(
            of: "{name: web-b, labels: {app: web}}, spec: {nodeName: node-0",
            with: "{name: web-b, labels: {app: web}}, spec: {nodeName: node-1")
        let timeline = try Timeline(ScenarioLoader.parse(text, file: "itp.yaml"))
        #expect(decisions(timeline, from: "client-0", to: "local") == ["web-a": .allow])
        #expect(decisions(timeline, from: "client-1", to: "local") == ["web-b": .allow])
        #expect(decisions(timeline, from: "client-1", to: "cluster") == ["web-a": .allow, "web-b": .allow])
    }

    @Test func theEndpointsEachNodeHolds() throws {
        let cluster = try timeline().cluster(afterStep: 0)
        let local = try #require(cluster.services[ObjectKey("default", "local")])
        let clusterWide = try #require(cluster.services[ObjectKey("default", "cluster")])
        #expect(ClusterIPPath.endpoints(cluster, local, local.ports[0], node: 0).map(\.pod.name) == ["web-a", "web-b"])
        #expect(ClusterIPPath.endpoints(cluster, local, local.ports[0], node: 1).isEmpty)
        #expect(ClusterIPPath.endpoints(cluster, clusterWide, clusterWide.ports[0], node: 1).map(\.pod.name) == ["web-a", "web-b"])
    }

    /// kube-proxy's special case: a host-network pod's and a node's own connections leave from the
    /// node, so Local keeps them to that node's endpoints too.
    @Test func hostNetworkPodsAndNodesAreTheirNodesClients() throws {
        let cluster = try timeline().cluster(afterStep: 0)
        let engine = PolicyEngine(cluster)
        let port = ProtocolPort(.tcp, 80)
        let web = Endpoint.service(ObjectKey("default", "local"), backend: ObjectKey("default", "web-a"))
        #expect(engine.evaluate(fromSource: ObjectKey("default", "agent"), to: web, port: port).hasNoPath)
        #expect(engine.evaluate(fromSource: .node("node-1"), to: web, port: port).hasNoPath)
        #expect(engine.evaluate(fromSource: .node("node-0"), to: web, port: port).decision == .allow)
    }

    /// Endpoints on both nodes: each client reaches exactly the endpoint of its own node.
    @Test func endpointsOnBothNodesAreEachReachedFromTheirOwnNode() throws {
        var cluster = try timeline().cluster(afterStep: 0)
        for name in ["web-a", "api"] { cluster.pods[ObjectKey("default", name)]?.labels["tier"] = "spread" }
        let engine = PolicyEngine(cluster)
        let port = ProtocolPort(.tcp, 80)
        let spread = ObjectKey("default", "spread")
        func decision(_ client: String, _ backend: String) -> Decision {
            engine.evaluate(
                fromSource: ObjectKey("default", client), to: .service(spread, backend: ObjectKey("default", backend)), port: port
            )
            .decision
        }
        #expect(decision("client-0", "web-a") == .allow)
        #expect(decision("client-0", "api") == .deny)
        #expect(decision("client-1", "web-a") == .deny)
        #expect(decision("client-1", "api") == .allow)
    }
}
