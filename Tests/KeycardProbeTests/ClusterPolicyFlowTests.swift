import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import Testing

@testable import KeycardScenario

/// Flow log lines of the ClusterNetworkPolicy guardrails (model runner): a cluster policy that
/// decides a side is named as Hubble names a cluster-scoped policy, and the walk through the tiers
/// is in keycard's facts.
@Suite("Flow log with ClusterNetworkPolicy")
struct ClusterPolicyFlowTests {
    @Test func guardrailFlowsNameTheDecidingClusterPolicy() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/conformance/cnp/00-multi-tenant-guardrails.yaml"))
        let (report, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        #expect(report.passed)
        let metadata = lines.filter { $0.flow.IP.destination == "169.254.169.254" }
        #expect(!metadata.isEmpty)
        for line in metadata where line.flow.event_type.type == 1 {
            #expect(line.flow.verdict == "DROPPED" && line.flow.egress_denied_by == nil)
            // A deny rule's drop: POLICY_DENY (181), not the default deny's POLICY_DENIED.
            #expect(line.flow.event_type.sub_type == 181 && line.flow.drop_reason == 181)
        }
        for line in metadata where line.flow.event_type.type == 5 {
            #expect(line.flow.verdict == "DROPPED")
            #expect(line.flow.drop_reason_desc == "POLICY_DENY" && line.flow.drop_reason == 181)
            #expect(line.flow.traffic_direction == "EGRESS")
            var expected = HubbleFlow.Policy(name: "no-metadata", namespace: nil)
            expected.kind = "ClusterNetworkPolicy"
            #expect(line.flow.egress_denied_by == [expected])
            // protojson never writes an empty string: a cluster-scoped policy has no namespace key.
            let json = try FlowLog.encode([line])
            #expect(json.contains("\"egress_denied_by\":[{\"kind\":\"ClusterNetworkPolicy\",\"name\":\"no-metadata\"}]"), "\(json)")
            #expect(!json.contains("\"namespace\":\"\""))
            #expect(FlowLogTests.facts(line)?.tiers == "[Admin] Deny (no-metadata/cloud-metadata)")
        }
        // tenant-a into tenant-b after tenant-b opened up: the NetworkPolicy tier allowed it.
        let opened = lines.filter {
            FlowLogTests.facts($0)?.stepName == "tenant-b opens up" && $0.flow.source.pod_name == "app"
                && $0.flow.destination.pod_name == "web"
        }
        #expect(opened.count == 1)
        #expect(opened.first?.flow.verdict == "FORWARDED")
        #expect(opened.first?.flow.ingress_allowed_by == [HubbleFlow.Policy(name: "open-to-a", namespace: "tenant-b")])
        #expect(opened.first.flatMap(FlowLogTests.facts)?.tiers == "[NetworkPolicy] Allowed (tenant-b/open-to-a)")
    }
}
