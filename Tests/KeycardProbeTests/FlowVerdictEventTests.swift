import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: which monitor events a probe cell becomes. Cilium sends a policy verdict only on
/// a side whose endpoint has policy enforced for that direction (bpf `policy_verdict_filter_allow`,
/// `GetPolicyVerdictLogFilter`), each with its own direction's policies (`CorrelatePolicy`); a
/// forwarded packet no side enforces policy on is its trace event; a packet that never crosses the
/// pod network (a pod to itself, an external to an external) is no flow at all.
@Suite("Flow verdict events")
struct FlowVerdictEventTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fxfdir}
        spec:
          lab: {nodes: 2}
          externals: [{name: ext, ip: 203.0.113.10, ports: [TCP/80]}]
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: app}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: app, labels: {app: client}}, spec: {nodeName: node-0, containers: [{name: c, image: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: app, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: app, labels: {app: db}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: client-out, namespace: app}
              spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{ports: [{port: 80}]}]}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: db-closed, namespace: app}
              spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}
          steps:
            - probe:
                from: [app/client, external/ext]
                to: [app/web, app/db, app/client, external/ext]
                ports: [TCP/80]
        """

    static func lines() throws -> [HubbleFlowLine] {
        let timeline = try ScenarioLoader.parseTimeline(scenario, file: "fxfdir.yaml")
        return try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1
    }

    static func cell(_ lines: [HubbleFlowLine], _ cell: String) -> [HubbleFlow] {
        // The first attempt (a dropped probe writes each of its attempts).
        lines.filter { $0.flow.extensions?.value.cell == cell && $0.flow.extensions?.value.attempt ?? 1 <= 1 }.map(\.flow)
    }

    @Test func aVerdictOnlyWherePolicyIsEnforcedWithItsOwnDirectionsPolicies() throws {
        let lines = try Self.lines()
        let clientOut = [HubbleFlow.Policy(name: "client-out", namespace: "app")]
        // Only the client's egress is enforced: its verdict, on its node, and no ingress verdict at web.
        let toWeb = Self.cell(lines, "app/client -> app/web TCP/80")
        #expect(toWeb.map(\.event_type) == [.init(type: 5)])
        #expect(toWeb.map(\.traffic_direction) == ["EGRESS"])
        #expect(toWeb.first?.node_name == "flows-node-0")
        #expect(toWeb.first?.egress_allowed_by == clientOut && toWeb.first?.ingress_allowed_by == nil)
        // db's ingress drops it: the client's allowing egress verdict, db's denying verdict, the drop.
        let toDB = Self.cell(lines, "app/client -> app/db TCP/80")
        #expect(toDB.map(\.event_type) == [.init(type: 5), .init(type: 5), .init(type: 1, sub_type: 133)])
        #expect(toDB.map(\.traffic_direction) == ["EGRESS", "INGRESS", "INGRESS"])
        #expect(toDB.map(\.verdict) == ["FORWARDED", "DROPPED", "DROPPED"])
        #expect(toDB.map(\.node_name) == ["flows-node-0", "flows-node-1", "flows-node-1"])
        #expect(toDB[0].egress_allowed_by == clientOut && toDB[0].ingress_denied_by == nil)
        // The default deny of db's isolation: POLICY_DENIED (133), as text and number, on the verdict and the drop.
        #expect(toDB.map(\.drop_reason) == [nil, 133, 133] && toDB.map(\.drop_reason_desc) == [nil, "POLICY_DENIED", "POLICY_DENIED"])
        #expect(toDB[1].ingress_denied_by == [HubbleFlow.Policy(name: "db-closed", namespace: "app")] && toDB[1].egress_allowed_by == nil)
        // No side enforces policy: the trace event to the endpoint alone, no policies.
        let fromExt = Self.cell(lines, "external/ext -> app/web TCP/80")
        #expect(fromExt.map(\.event_type) == [.init(type: 4)])
        #expect(fromExt.first?.trace_observation_point == "TO_ENDPOINT" && fromExt.first?.traffic_direction == "INGRESS")
        #expect(fromExt.first?.is_reply == false && fromExt.first?.ingress_allowed_by == nil)
        #expect(fromExt.first?.node_name == "flows-node-1")
        // Toward the world from an isolated pod: its egress verdict alone.
        let toExt = Self.cell(lines, "app/client -> external/ext TCP/80")
        #expect(toExt.map(\.event_type) == [.init(type: 5)] && toExt.first?.egress_allowed_by == clientOut)
    }

    @Test func packetsThatNeverCrossThePodNetworkAreNoFlows() throws {
        let lines = try Self.lines()
        #expect(Self.cell(lines, "app/client -> app/client TCP/80").isEmpty)
        #expect(Self.cell(lines, "external/ext -> external/ext TCP/80").isEmpty)
        // The other cells of the step are all there.
        #expect(!Self.cell(lines, "external/ext -> app/client TCP/80").isEmpty)
    }
}
