import Foundation
import KeycardModel
import KeycardProbe
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md, audit mode: a cell (here a scan target) the policies would deny that got through. The doc said every
/// such flow is `AUDIT` and that `audit` is true "for an AUDIT flow"; what is written is one event
/// per side that enforces policy, `AUDIT` only on the denying side, and `audit: true` on all of
/// them (the allowing side's `FORWARDED` verdict too), with `confirmed` false.
@Suite("Flow audit")
struct FlowAuditTests {
    @Test func onlyTheDenyingSideIsAuditAndEveryEventOfTheCellSaysAudit() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: flow-audit}
            spec:
              lab: {mode: audit}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x, labels: {app: b}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: a-to-b, namespace: x}
                  spec: {podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: deny-b, namespace: x}
                  spec: {podSelector: {matchLabels: {app: b}}, policyTypes: [Ingress]}
              steps:
                - scan: {from: x/a, targets: pods, ports: [80]}
            """, file: "flow-audit.yaml")
        let step = try #require(timeline.scenario.steps.first)
        guard case .scan(let scan) = step.action else { throw ScanStepExpected() }
        let cluster = timeline.cluster(afterStep: step.index)
        // An audit lab enforces nothing: the packets behave as without policies.
        let report = try StepEvaluation.scan(step, scan, timeline: timeline, runner: ModelProbeRunner(cluster: cluster.withoutPolicies))
        let log = FlowLog(scenario: "flow-audit", labName: "flows", nodes: timeline.plan.nodes, audit: true)
        let flows = log.flows(of: report, cluster: cluster, time: Date(timeIntervalSince1970: 1_800_000_000)).map(\.flow)
            .filter { $0.extensions?.value.cell == "x/a -> x/b TCP/80" }
        #expect(flows.map(\.verdict) == ["FORWARDED", "AUDIT"])
        #expect(flows.map(\.traffic_direction) == ["EGRESS", "INGRESS"])
        #expect(flows.first?.egress_allowed_by == [HubbleFlow.Policy(name: "a-to-b", namespace: "x")])
        #expect(flows.last?.ingress_denied_by == [HubbleFlow.Policy(name: "deny-b", namespace: "x")])
        #expect(flows.allSatisfy { $0.extensions?.value.audit == true && $0.extensions?.value.confirmed == false })
        #expect(flows.allSatisfy { $0.is_reply == false && $0.event_type == .init(type: 5) })
    }
}

struct ScanStepExpected: Error {}
