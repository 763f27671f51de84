import Foundation
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Node ports and the load balancer in a real lab, both placements (issue 18, parts 2 and 3):
/// `keycard run` programs `kc-LAB-nodeport` in every node and `kc-LAB-lb` in the router; then a
/// connection from the external's namespace to a node's address on the node port, from a source
/// port aimed with `ServiceHash`, is answered by the pod, and the backend's node's conntrack table
/// (read with `ip netns exec ... cat /proc/net/nf_conntrack`, an independent witness) shows the
/// source the pod saw: node-0's address under Cluster through node-0, the client's through the
/// pod's own node or under Local. Local through node-0 (no local endpoint) is not answered.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root"))
struct NodePortLabTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: nodeports}
        spec:
          lab: {nodes: 2, loadBalancerCIDR: 192.0.2.0/28}
          externals: [{name: client, ip: 203.0.113.10}]
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: c, namespace: default}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: l, namespace: default}, spec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30081}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: lb, namespace: default}, spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30082}]}}
          steps:
            - probe: {from: [external/client], to: [svc/default/c@node-0, svc/default/c@node-1], ports: [TCP/30080]}
        """

    /// The conntrack line of the connection from source port `port` in `namespace`, if any.
    static func conntrack(_ namespace: String, sourcePort port: UInt16) throws -> String? {
        let text = try runChecked("/usr/bin/env", ["ip", "netns", "exec", namespace, "cat", "/proc/net/nf_conntrack"])
        return text.split(separator: "\n").first { $0.contains(" sport=\(port) ") }.map(String.init)
    }

    @Test(arguments: Enforcement.allCases)
    func nodePortsTranslateAndClusterSourceNATs(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "nodeports.yaml")
        let run = ScenarioRun(
            timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: NinePodModel.labName("np")))
        defer { run.tearDown() }
        #expect(try run.execute().passed)
        let plan = try #require(run.lab?.plan)
        let client = try #require(plan.externals.first)
        let nodes = plan.nodes.map(\.namespace)
        #expect(plan.nodes.map(\.uplinkAddress) == [LabNetwork.nodeAddress(0), LabNetwork.nodeAddress(1)])

        // The witness lists what was programmed through libnftnl.
        let node0 = try runChecked(
            "/usr/bin/env", ["ip", "netns", "exec", nodes[0], "nft", "list", "table", "inet", "kc-\(plan.labName)-nodeport"])
        #expect(node0.contains("snat ip to 100.64.0.2"))
        #expect(node0.contains("meta mark set 0x00004000"))
        let router = try runChecked(
            "/usr/bin/env", ["ip", "netns", "exec", plan.router, "nft", "list", "table", "inet", "kc-\(plan.labName)-lb"])
        #expect(router.contains("dnat ip to 100.64.0.2:30082") && router.contains("dnat ip to 100.64.0.6:30082"))

        var port: UInt16 = 40100
        func connect(_ address: IPv4, _ destination: UInt16) throws -> (line: String?, seen: String?) {
            port += 1
            let line = try ServiceLabTests.firstLine(namespace: client.netns, from: client.address, port: port, to: address, destination)
            let seen = try Self.conntrack(nodes[1], sourcePort: port)?.split(separator: " ").first { $0.hasPrefix("src=") }
            return (line, seen.map(String.init))
        }
        let viaNode0 = try connect(LabNetwork.nodeAddress(0), 30080)
        #expect(viaNode0.line == "default/web")
        #expect(viaNode0.seen == "src=100.64.0.2", "Cluster through node-0: the pod's node sees node-0")
        let viaNode1 = try connect(LabNetwork.nodeAddress(1), 30080)
        #expect(viaNode1.line == "default/web")
        #expect(viaNode1.seen == "src=203.0.113.10", "Cluster through the pod's node: the client")
        let local = try connect(LabNetwork.nodeAddress(1), 30081)
        #expect(local.line == "default/web")
        #expect(local.seen == "src=203.0.113.10")
        #expect(try connect(LabNetwork.nodeAddress(0), 30081).line == nil, "Local: node-0 has no endpoint and drops")
        // The load balancer: every source port reaches the pod, through either node.
        let balancer = try #require(timeline.initial.services[ObjectKey("default", "lb")]?.loadBalancerIngress)
        #expect(balancer == IPv4("192.0.2.1"))
        for _ in 0..<4 { #expect(try connect(balancer, 80).line == "default/web") }
        // Not a node port: nothing listens on node-0's address on the Service port.
        #expect(try connect(LabNetwork.nodeAddress(0), 80).line == nil)
    }

    /// Through node-0's node port (externalTrafficPolicy Cluster) to web on node-1, the packet
    /// reaches web source-NATed to node-0's address, which web's ingress (the client's prefix
    /// only) denies: its default deny logs the packet from node-0's address. The prober only
    /// knew the flow from the client's address, so the drop settled as a timeout and the cell
    /// was not confirmed; now the NATed flow is the probe's too, and its log confirms it.
    @Test(arguments: Enforcement.allCases)
    func aDropAfterSourceNATIsConfirmedByItsLog(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(FlowSourceNATTests.scenario, file: "nodeport-snat-drop.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: NinePodModel.labName("nps")))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed)
        let results = report.steps.flatMap { $0.results ?? [] }.compactMap { if case .probe(let result) = $0 { result } else { nil } }
        let viaNode0 = try #require(results.first { $0.to.description.contains("@node-0") })
        #expect(viaNode0.sourceNAT == LabNetwork.nodeAddress(0))
        #expect(viaNode0.observed == .deny)
        #expect(viaNode0.reason?.hasPrefix("dropped: kc deny ingress default/web") == true, "\(viaNode0.reason ?? "-")")
        #expect(viaNode0.confirmed == true)
        let viaNode1 = try #require(results.first { $0.to.description.contains("@node-1") })
        #expect(viaNode1.observed == .allow && viaNode1.confirmed == true && viaNode1.sourceNAT == nil)
    }
}
