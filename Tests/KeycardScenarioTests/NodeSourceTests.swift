import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Nodes as probe sources and the local-node rule (issue 18 part 3): naming, the model's verdicts
/// in both `spec.lab.nodeIngress` settings, what is refused.
@Suite("Node sources")
struct NodeSourceTests {
    /// Two nodes: prod/web runs on node-0, prod/api on node-1 (round-robin in order).
    static func lab(_ nodeIngress: String? = nil) -> String {
        "  lab: {nodes: 2" + (nodeIngress.map { ", nodeIngress: \($0)" } ?? "") + "}\n"
    }

    /// Every prod pod isolated for ingress; `from` lists extra ingress peers.
    static func denyAll(_ from: String = "") -> String {
        T.policy(
            """
            podSelector: {}
            policyTypes: [Ingress]
            """ + (from.isEmpty ? "" : "\ningress:\n  - from: [\(from)]"))
    }

    static let nodeProbe = "- probe: {from: [node/node-0, node/node-1], to: [prod/web, prod/api], ports: [TCP/80, TCP/8080]}"

    func decisions(_ t: Timeline, step: Int = 1) -> [String: Decision] {
        var result: [String: Decision] = [:]
        for cell in t.cells(ofProbeStep: step) where cell.port.port == (cell.to == .pod(ObjectKey("prod", "web")) ? 80 : 8080) {
            result["\(cell.from) \(cell.to)"] = cell.verdict.decision
        }
        return result
    }

    @Test func localNodeIsAllowedByDefaultAndOnlyItsOwnPods() throws {
        let t = try ScenarioLoader.parseTimeline(
            T.scenario(resources: Self.denyAll(), steps: Self.nodeProbe) + Self.lab(), file: "nodes.yaml")
        #expect(t.probes[1]?.sources == [.node("node-0"), .node("node-1")])
        let seen = decisions(t)
        #expect(seen["node/node-0 prod/web"] == .allow)
        #expect(seen["node/node-0 prod/api"] == .deny, "node-0 is not api's node: judged by its address")
        #expect(seen["node/node-1 prod/api"] == .allow)
        #expect(seen["node/node-1 prod/web"] == .deny)
        let local = try #require(t.cells(ofProbeStep: 1).first { $0.from == .node("node-0") && $0.to == .pod(ObjectKey("prod", "web")) })
        #expect(local.verdict.ingress.outcome == .localNode)
        #expect(local.verdict.ingress.isolatingPolicies == [ObjectKey("prod", "p")])
        #expect(local.verdict.egress.outcome == .notApplicable)
    }

    @Test func policySettingJudgesTheNodeByItsAddress() throws {
        let closed = try ScenarioLoader.parseTimeline(
            T.scenario(resources: Self.denyAll(), steps: Self.nodeProbe) + Self.lab("policy"), file: "nodes.yaml")
        #expect(decisions(closed).values.allSatisfy { $0 == .deny })
        // node-0's address is the node end of router link 0: 100.64.0.2.
        let open = try ScenarioLoader.parseTimeline(
            T.scenario(resources: Self.denyAll("{ipBlock: {cidr: 100.64.0.2/32}}"), steps: Self.nodeProbe) + Self.lab("policy"),
            file: "nodes.yaml")
        let seen = decisions(open)
        #expect(seen["node/node-0 prod/web"] == .allow)
        #expect(seen["node/node-0 prod/api"] == .allow)
        #expect(seen["node/node-1 prod/web"] == .deny)
        #expect(seen["node/node-1 prod/api"] == .deny)
    }

    @Test func aNotIsolatedPodAcceptsEveryNodeAsNotIsolated() throws {
        let t = try ScenarioLoader.parseTimeline(T.scenario(steps: Self.nodeProbe) + Self.lab(), file: "nodes.yaml")
        let cells = t.cells(ofProbeStep: 1)
        #expect(cells.allSatisfy { $0.verdict.decision == .allow && $0.verdict.ingress.outcome == .notIsolated })
    }

    @Test func nodeAddressesAndNames() throws {
        let t = try ScenarioLoader.parseTimeline(T.scenario(steps: Self.nodeProbe) + Self.lab(), file: "nodes.yaml")
        let cluster = t.cluster(afterStep: 1)
        #expect(cluster.address(of: .node("node-0")) == IPv4("100.64.0.2"))
        #expect(cluster.address(of: .node("node-1")) == IPv4("100.64.0.6"))
        #expect(cluster.address(of: .node("node-2")) == nil)
        #expect(cluster.endpoint(at: IPv4(0x6440_0006)) == .node("node-1"))
        #expect(Endpoint.parse("node/node-1") == .node("node-1"))
        #expect(cluster.nodeName(ofPod: ObjectKey("prod", "api")) == "node-1")
    }

    @Test func tableRowsNameNodes() throws {
        let text =
            T.scenario(
                resources: Self.denyAll(),
                steps: """
                    - probe: {from: [node/node-0, prod/api], to: [prod/web], ports: [TCP/80]}
                      expect:
                        TCP/80: |
                          -            prod/web
                          node/node-0  .
                          prod/api     X
                    """) + Self.lab()
        #expect(ModelReport.build(try ScenarioLoader.parseTimeline(text, file: "nodes.yaml")).passed)
        let wrong = text.replacingOccurrences(of: "node/node-0  .", with: "node/node-0  X")
        #expect(!ModelReport.build(try ScenarioLoader.parseTimeline(wrong, file: "nodes.yaml")).passed)
    }

    @Test func scanFromNode() throws {
        let t = try ScenarioLoader.parseTimeline(
            T.scenario(
                resources: Self.denyAll(),
                steps: """
                    - scan: {from: node/node-1, targets: pods, ports: [80, 8080]}
                      expect: {open: [prod/api:8080]}
                    """) + Self.lab(), file: "nodes.yaml")
        #expect(t.scans[1]?.sources == [.node("node-1")])
        #expect(ModelReport.build(t).passed)
    }

    @Test(arguments: [
        ("- probe: {from: [node/node-2], to: [prod/web], ports: [TCP/80]}", "the lab has no node node-2"),
        ("- probe: {from: [prod/web], to: [node/node-0], ports: [TCP/80]}", "is a probe source only"),
        ("- probe: {from: [node/node-0], to: [svc/prod/web], ports: [TCP/80]}", "no Service proxy in node namespaces"),
        ("- scan: {from: node/worker, targets: pods, ports: [80]}", "the lab has no node worker"),
    ])
    func refused(step: String, message: String) throws {
        let service =
            "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}"
        let text = T.scenario(resources: service, steps: step) + Self.lab()
        let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "bad.yaml") }
        #expect(error.message.contains(message), "\(error.message)")
    }

    /// Kubernetes accepts namespaces called `external` and `node`: their pods are pods, reached by
    /// the same text when the lab has no external or node of that name.
    @Test func podsOfNamespacesCalledExternalAndNode() throws {
        let pods = """
            - {apiVersion: v1, kind: Namespace, metadata: {name: external}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: node}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: external, labels: {app: outer}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: worker, namespace: node}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
            """
        let t = try ScenarioLoader.parseTimeline(
            T.scenario(
                resources: pods + "\n" + Self.denyAll("{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: external}}}"),
                steps: """
                    - probe: {from: [external/web, node/worker], to: [prod/web], ports: [TCP/80]}
                      expect:
                        TCP/80: |
                          -             prod/web
                          external/web  .
                          node/worker   X
                    - probe: {from: [prod/web], to: [external/web, node/worker], ports: [TCP/80]}
                    """), file: "namespaces.yaml")
        let web = ObjectKey("external", "web")
        let worker = ObjectKey("node", "worker")
        #expect(t.probes[1]?.sources == [web, worker])
        let cells = t.cells(ofProbeStep: 1)
        #expect(cells.map(\.verdict.from) == [.pod(web), .pod(worker)])
        #expect(t.probes[2]?.destinations == [.pod(web), .pod(worker)])
        #expect(ModelReport.build(t).passed)
        // The default rows and columns write them as `external/web`, as a table would.
        #expect(t.cluster(afterStep: 1).source(web) == .pod(web))
    }
}
