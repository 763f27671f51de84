import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: where a trace event is written when an end is a node. A host-network pod has no
/// Cilium endpoint (its traffic is its node's), so a packet toward it is handed to the stack on the
/// source's node, not delivered to an endpoint; a packet from outside the cluster to a node is seen
/// by that node, which names itself `reserved:host`; a node (or a host-network pod) to its own node
/// is the node's loopback, which no datapath sees. A scan target the report does not judge names no
/// policy.
@Suite("Flow log: node ends and unjudged scan targets")
struct FlowNodeEndTests {
    static let host = HubbleFlow.Endpoint(identity: 1, labels: ["reserved:host"])
    static let remote = HubbleFlow.Endpoint(identity: 6, labels: ["reserved:remote-node"])

    static let hostNetwork = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fxhnstack}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: m}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: m, labels: {app: client}}, spec: {nodeName: node-0, containers: [{name: c, image: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: m, labels: {app: agent}}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: c, image: c, ports: [{containerPort: 9200}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: near, namespace: m, labels: {app: near}}, spec: {nodeName: node-1, containers: [{name: c, image: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: exp1, namespace: m, labels: {app: exp}}, spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, image: c, ports: [{containerPort: 9100}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: mon1, namespace: m, labels: {app: mon}}, spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, image: c, ports: [{containerPort: 9091}]}]}}
        """

    /// The events of one forwarded packet, no policy anywhere.
    static func events(_ timeline: Timeline, _ from: ObjectKey, _ to: Endpoint, _ port: ProtocolPort) -> [HubbleFlow] {
        let cluster = timeline.cluster(afterStep: 0)
        let log = FlowLog(scenario: timeline.scenario.name, labName: "l", nodes: timeline.plan.nodes)
        let facts = KeycardFlowFacts(
            scenario: timeline.scenario.name, step: 1, kind: "probe", cell: "c", attempt: 1, attempts: 1, model: "allow",
            observed: "allow", evidence: "model")
        return log.events(
            from: from, to: to, port: port, dropped: false, verdict: PolicyEngine(cluster).evaluate(fromSource: from, to: to, port: port),
            cluster: cluster, time: "t", sourcePort: nil, facts: facts
        ).map(\.flow)
    }

    /// client (node-0) to the host-network exp1 (node-1) was a trace `TO_ENDPOINT`/`INGRESS` on
    /// node-1 toward `reserved:host`: exp1 has no endpoint, so it is `TO_STACK`/`EGRESS` on
    /// client's node, toward `reserved:remote-node`.
    @Test func aHostNetworkDestinationIsTheStackOnTheSourcesNode() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.hostNetwork, file: "fxhnstack.yaml")
        let port = ProtocolPort(.tcp, 9100)
        let exp1 = Endpoint.pod(ObjectKey("m", "exp1"))
        let fromClient = Self.events(timeline, ObjectKey("m", "client"), exp1, port)
        #expect(fromClient.count == 1)
        let trace = try #require(fromClient.first)
        #expect(trace.event_type == .init(type: 4, sub_type: 3) && trace.trace_observation_point == "TO_STACK")
        #expect(trace.traffic_direction == "EGRESS" && trace.node_name == "l-node-0")
        #expect(trace.destination == Self.remote && trace.source.pod_name == "client")
        #expect(trace.extensions?.value.hostNetworkDestination == "m/exp1")
        // A pod on exp1's own node: the stack there, the node its own host.
        let fromNear = try #require(Self.events(timeline, ObjectKey("m", "near"), exp1, port).first)
        #expect(fromNear.trace_observation_point == "TO_STACK" && fromNear.traffic_direction == "EGRESS")
        #expect(fromNear.node_name == "l-node-1" && fromNear.destination == Self.host)
        // A host-network pod of another node: its own node's host toward the remote node.
        let fromAgent = try #require(Self.events(timeline, ObjectKey("m", "agent"), exp1, port).first)
        #expect(fromAgent.trace_observation_point == "TO_STACK" && fromAgent.node_name == "l-node-0")
        #expect(fromAgent.source == Self.host && fromAgent.destination == Self.remote)
        // Toward a pod, a host-network source is still delivered to that pod's endpoint.
        let toClient = try #require(Self.events(timeline, ObjectKey("m", "exp1"), .pod(ObjectKey("m", "client")), port).first)
        #expect(toClient.trace_observation_point == "TO_ENDPOINT" && toClient.traffic_direction == "INGRESS")
        #expect(toClient.node_name == "l-node-0" && toClient.source == Self.remote)
    }

    /// Host-network pods of one node share its address: exp1 to mon1 (and the node to either) is the
    /// node's loopback, which no datapath sees, so no flow; it was a `TO_ENDPOINT` trace.
    @Test func aNodeToItsOwnNodeIsNoFlow() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.hostNetwork, file: "fxhnstack.yaml")
        let port = ProtocolPort(.tcp, 9091)
        #expect(Self.events(timeline, ObjectKey("m", "exp1"), .pod(ObjectKey("m", "mon1")), port).isEmpty)
        #expect(Self.events(timeline, .node("node-1"), .pod(ObjectKey("m", "mon1")), port).isEmpty)
        #expect(Self.events(timeline, ObjectKey("m", "mon1"), .node("node-1"), ProtocolPort(.tcp, 22)).isEmpty)
        // Another node's host-network pod crosses the network: a flow.
        #expect(!Self.events(timeline, ObjectKey("m", "agent"), .pod(ObjectKey("m", "mon1")), port).isEmpty)
    }

    /// service-scan step 3 (`--flows`): the internet to each node's port 22 was written on node-0,
    /// toward `reserved:remote-node`, for both nodes. Each is seen by the node it reaches, which
    /// names itself `reserved:host`.
    @Test func anExternalToANodeIsSeenByThatNodeAsItsHost() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/service-scan.yaml"))
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        for node in 0...1 {
            let flows = lines.filter { $0.flow.extensions?.value.cell == "external/internet -> node/node-\(node) TCP/22" }.map(\.flow)
            #expect(flows.count == 1, "node-\(node)")
            let trace = try #require(flows.first)
            #expect(trace.node_name == "flows-node-\(node)" && trace.destination == Self.host)
            #expect(trace.source == HubbleFlow.Endpoint(identity: 2, labels: ["reserved:world"]))
            #expect(trace.event_type == .init(type: 4, sub_type: 3) && trace.trace_observation_point == "TO_STACK")
            // The node's host endpoint is not the packet's source.
            #expect(trace.traffic_direction == "INGRESS")
        }
    }

    /// service-scan step 4: the client's own connections to the node ports are not judged (no
    /// `model`). A filtered one was written as a `DROPPED` policy verdict naming lock-web-a and a
    /// drop 133, with `"model": ""`; it is no flow. An answered one is the trace event alone, no
    /// policy named (it was an `AUDIT` verdict naming lock-web-a), and no `model` key.
    @Test func aScanTargetTheReportDoesNotJudgeNamesNoPolicy() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/service-scan.yaml"))
        let cluster = timeline.cluster(afterStep: 4)
        let client = ObjectKey("shop", "client")
        let nodePort = "svc/shop/web@node-0>shop/web-a"
        func step(_ observed: ScanState) -> StepReport {
            StepReport(
                index: 4, name: "unjudged", kind: .scan, passed: true,
                results: [
                    .scan(
                        ScanResult(from: client, to: nodePort, ip: LabNetwork.nodeAddress(0), port: 30080, model: nil, observed: observed))
                ])
        }
        let log = FlowLog(scenario: "service-scan", labName: "flows", nodes: timeline.plan.nodes)
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(log.flows(of: step(.filtered), cluster: cluster, time: time).isEmpty)
        let answered = log.flows(of: step(.open), cluster: cluster, time: time).map(\.flow)
        #expect(answered.count == 1)
        let trace = try #require(answered.first)
        #expect(trace.verdict == "FORWARDED" && trace.event_type == .init(type: 4) && trace.trace_observation_point == "TO_ENDPOINT")
        #expect(trace.ingress_denied_by == nil && trace.egress_denied_by == nil)
        #expect(trace.ingress_allowed_by == nil && trace.egress_allowed_by == nil)
        let facts = try #require(trace.extensions?.value)
        #expect(facts.model == nil && facts.rule == nil && facts.confirmed == nil && facts.audit == nil)
        #expect(facts.observed == "open" && facts.evidence == "kernel")
        let json = try FlowLog.encode(answered.map(HubbleFlowLine.init))
        #expect(!json.contains("\"model\""), "\(json)")
        // A judged target keeps its model and its policies.
        var judged = step(.filtered)
        judged.results = [
            .scan(
                ScanResult(
                    from: client, to: "shop/web-a", ip: try #require(cluster.addresses[ObjectKey("shop", "web-a")]), port: 8080,
                    model: .filtered, observed: .filtered))
        ]
        let dropped = log.flows(of: judged, cluster: cluster, time: time).map(\.flow)
        #expect(dropped.map(\.event_type) == [.init(type: 5), .init(type: 1, sub_type: 133)])
        #expect(dropped.first?.extensions?.value.model == "filtered")
    }
}
