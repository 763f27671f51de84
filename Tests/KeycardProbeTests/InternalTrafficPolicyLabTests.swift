import Foundation
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario
import KeycardTestSupport
import KeycardTopology
import KeycardValues
import Testing

/// `internalTrafficPolicy: Local` in a real lab, both placements: `keycard run` gives each node's
/// namespaces (node placement) or each pod's namespace (pod placement) the proxy table of its node,
/// holding only that node's endpoints of a Local Service and a drop where it has none; the run's
/// cells agree with the model. Then, as independent witnesses, `nft list` shows each node's
/// table and connections to the ClusterIP from a source port that, with every endpoint held,
/// would land on each backend in turn: from node-0 they reach node-0's pods only, from node-1
/// nothing (no local endpoint), while the Cluster twin reaches every backend from both.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root"))
struct InternalTrafficPolicyLabTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: itp}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web-a, labels: {app: web, tier: spread}}, spec: {nodeName: node-0, containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-b, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: api, labels: {tier: spread}}, spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-0}, spec: {nodeName: node-0, containers: [{name: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-1}, spec: {nodeName: node-1, containers: [{name: c}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: local}, spec: {internalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: cluster}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: spread}, spec: {internalTrafficPolicy: Local, selector: {tier: spread}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [default/client-0, default/client-1], to: [svc/default/local, svc/default/cluster, svc/default/spread], ports: [TCP/80]}
            - probe: {from: [default/client-0], to: ['svc/default/spread>default/api'], ports: [TCP/80]}
        """

    @Test(arguments: Enforcement.allCases)
    func eachNodeReachesOnlyItsOwnEndpoints(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "itp.yaml")
        let run = ScenarioRun(
            timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: NinePodModel.labName("itp")))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed)
        // The run observed what the model says, cell by cell: the Local cells across nodes are lost.
        let records = report.steps.flatMap { $0.results ?? [] }.compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        func observed(_ client: String, _ service: String, _ backend: String?, step: Int = 1) -> Observation? {
            let to = Endpoint.service(ObjectKey("default", service), backend: backend.map { ObjectKey("default", $0) })
            let step = report.steps.first { $0.index == step }?.results ?? []
            return step.compactMap { record -> ProbeResult? in
                if case .probe(let result) = record { return result }
                return nil
            }.first(where: { $0.from == ObjectKey("default", client) && $0.to == to })?.observed
        }
        // A client's cells are its node's endpoints: node-1 holds none of local's (one cell with no
        // backend, dropped), each node one of spread's.
        #expect(observed("client-0", "local", "web-a") == .allow)
        #expect(observed("client-1", "local", nil) == .deny)
        #expect(observed("client-1", "local", "web-a") == nil)
        #expect(observed("client-1", "cluster", "web-b") == .allow)
        #expect(observed("client-0", "spread", "web-a") == .allow)
        #expect(observed("client-0", "spread", "api") == nil)
        #expect(observed("client-1", "spread", "api") == .allow)
        #expect(observed("client-1", "spread", "web-a") == nil)
        // Named explicitly, the other node's backend is sent from the source port that would reach
        // it were every endpoint held: node-0 sends it to its own web-a, never to api.
        #expect(observed("client-0", "spread", "api", step: 2) == .deny)
        #expect(!records.isEmpty)

        let plan = try #require(run.lab?.plan)
        let client0 = try #require(plan.pods.first { $0.name == "client-0" })
        let client1 = try #require(plan.pods.first { $0.name == "client-1" })
        // The witness lists what was programmed through libnftnl, in the namespace that translates.
        func table(_ client: PlannedPod) throws -> String {
            let namespace = enforcement == .pod ? client.netns : plan.nodes[client.nodeIndex].namespace
            return try runChecked(
                "/usr/bin/env", ["ip", "netns", "exec", namespace, "nft", "list", "table", "inet", "kc-\(plan.labName)-svc"])
        }
        let node1 = try table(client1)
        #expect(node1.contains("default/local TCP/80 has no local endpoints on node-1"))
        #expect(!node1.contains("endpoint-default/local/"))
        #expect(node1.contains("endpoint-default/cluster/"))
        #expect(try table(client0).contains("endpoint-default/local/"))

        let local = try #require(timeline.initial.services[ObjectKey("default", "local")]?.clusterIP)
        let cluster = try #require(timeline.initial.services[ObjectKey("default", "cluster")]?.clusterIP)
        var used: Set<UInt16> = []
        for index in 0..<2 {
            let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 44000...49000, skipping: used))
            used.insert(port)
            let expected = index == 0 ? "default/web-a" : "default/web-b"
            #expect(try ServiceLabTests.firstLine(namespace: client0.netns, from: client0.address, port: port, to: local, 80) == expected)
            #expect(try ServiceLabTests.firstLine(namespace: client1.netns, from: client1.address, port: port, to: local, 80) == nil)
            #expect(try ServiceLabTests.firstLine(namespace: client1.netns, from: client1.address, port: port, to: cluster, 80) == expected)
        }
    }

    /// With sidecars (an HTTP port): the proxy resolves the ClusterIP among the same node-local
    /// endpoints (`MeshRoute`), so a cell to another node's endpoint is answered by the client's
    /// node's own one, or dropped where there is none, and the run agrees with the model.
    static let meshed = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: itp-mesh}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-a, namespace: shop, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-b, namespace: shop, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop}, spec: {nodeName: node-0, containers: [{name: c}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {internalTrafficPolicy: Local, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [shop/client], to: [svc/shop/web], ports: [TCP/80]}
            - probe: {from: [shop/client], to: ['svc/shop/web>shop/web-b'], ports: [TCP/80]}
        """

    @Test(arguments: Enforcement.allCases)
    func sidecarsPickOnlyLocalEndpoints(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.meshed, file: "itp-mesh.yaml")
        let run = ScenarioRun(
            timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: NinePodModel.labName("itpm")))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed)
        let cells = report.steps.flatMap { $0.results ?? [] }.compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        let local = try #require(cells.first { $0.to == .service(ObjectKey("shop", "web"), backend: ObjectKey("shop", "web-a")) })
        #expect(local.observed == .allow && local.mesh != nil)
        // The client's node holds web-a only: web-b gets a cell only when named, and then the
        // client's node answers through web-a, never web-b.
        let remote = try #require(cells.first { $0.to == .service(ObjectKey("shop", "web"), backend: ObjectKey("shop", "web-b")) })
        #expect(cells.filter { $0.to == remote.to }.count == 1, "only the named cell goes towards web-b")
        #expect(remote.observed == .deny)
        #expect(remote.reason?.contains("internalTrafficPolicy Local") == true, "\(remote.reason ?? "")")
    }
}
