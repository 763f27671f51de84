import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: a policy verdict carries Hubble's `policy_match_type` (cilium
/// `pkg/monitor/api/types.go`, `PolicyMatch*`; Hubble's `decodePolicyMatchType`), the kind of
/// policy map entry that decided it, as the datapath picks it (bpf `lib/policy.h`,
/// `__policy_can_access`). It was never written.
@Suite("Flow policy match type")
struct FlowPolicyMatchTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fxfpmt}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x, labels: {app: client}}, spec: {containers: [{name: c, image: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: l3l4, namespace: x, labels: {app: l3l4}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: l3, namespace: x, labels: {app: l3}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: l4, namespace: x, labels: {app: l4}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: all, namespace: x, labels: {app: all}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: proto, namespace: x, labels: {app: proto}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: l3proto, namespace: x, labels: {app: l3proto}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: both, namespace: x, labels: {app: both}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: closed, namespace: x, labels: {app: closed}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l3l4, namespace: x}, spec: {podSelector: {matchLabels: {app: l3l4}}, ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l3, namespace: x}, spec: {podSelector: {matchLabels: {app: l3}}, ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l4, namespace: x}, spec: {podSelector: {matchLabels: {app: l4}}, ingress: [{ports: [{port: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: all, namespace: x}, spec: {podSelector: {matchLabels: {app: all}}, ingress: [{}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: proto, namespace: x}, spec: {podSelector: {matchLabels: {app: proto}}, ingress: [{ports: [{protocol: TCP}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l3proto, namespace: x}, spec: {podSelector: {matchLabels: {app: l3proto}}, ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{protocol: TCP}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: both, namespace: x}, spec: {podSelector: {matchLabels: {app: both}}, ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}, {ports: [{port: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: closed, namespace: x}, spec: {podSelector: {matchLabels: {app: closed}}, policyTypes: [Ingress]}}
          steps:
            - probe: {from: [x/client], to: [x/l3l4, x/l3, x/l4, x/all, x/proto, x/l3proto, x/both, x/closed], ports: [TCP/80]}
        """

    @Test func eachVerdictNamesTheKindOfEntryThatDecidedIt() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "fxfpmt.yaml")
        let lines = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1.map(\.flow)
        func verdicts(_ pod: String) -> [HubbleFlow] { lines.filter { $0.destination.pod_name == pod && $0.event_type.type == 5 } }
        let expected: [String: PolicyMatchType] = [
            "l3l4": .l3L4, "l3": .l3Only, "l4": .l4Only, "all": .all, "proto": .protoOnly, "l3proto": .l3Proto,
            // An L3-only and an L4-only entry both hold it: the longer prefix (the port) wins.
            "both": .l4Only,
        ]
        for (pod, type) in expected {
            #expect(verdicts(pod).map(\.policy_match_type) == [type.rawValue], "\(pod)")
            #expect(verdicts(pod).map(\.verdict) == ["FORWARDED"], "\(pod)")
        }
        // A default deny matched no entry (`none`, left out); the drop event after it has none.
        let closed = lines.filter { $0.destination.pod_name == "closed" && $0.extensions?.value.attempt == 1 }
        #expect(closed.map(\.event_type.type) == [5, 1] && closed.allSatisfy { $0.policy_match_type == nil })
        // Written as Hubble's key, a number.
        let text = try FlowLog.encode([HubbleFlowLine(flow: try #require(verdicts("l3l4").first))])
        #expect(text.contains("\"policy_match_type\":2"))
    }

    /// A port range is keyed as the aligned blocks that cover it; the packet's port falls in one.
    @Test func aPortRangesEntryIsTheAlignedBlockHoldingThePort() {
        #expect(PolicyMatchType.prefix(of: 80...80, holding: 80) == 24)
        #expect(PolicyMatchType.prefix(of: 1000...2000, holding: 1003) == 21)
        #expect(PolicyMatchType.prefix(of: 1000...2000, holding: 1024) == 15)
        #expect(PolicyMatchType.prefix(of: 1000...2000, holding: 2000) == 24)
        #expect(PolicyMatchType.prefix(of: 0...65535, holding: 443) == 8)
    }

    /// From the pod's own node (`allow-localhost`, the host's identity with any port) the map also
    /// holds the L4-only entries of the pod's isolating policies' rules without peers: one with a
    /// port is the longer prefix and decides (L4-Only); without such a rule allow-localhost does
    /// (L3-Only).
    @Test func fromItsOwnNodeAPortRuleWithoutPeersOutranksAllowLocalhost() throws {
        let yaml = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fxfpln}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: l4, namespace: x, labels: {app: l4}}, spec: {nodeName: node-0, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: l3, namespace: x, labels: {app: l3}}, spec: {nodeName: node-0, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l4, namespace: x}, spec: {podSelector: {matchLabels: {app: l4}}, ingress: [{ports: [{port: 80}]}]}}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: l3, namespace: x}, spec: {podSelector: {matchLabels: {app: l3}}, ingress: [{from: [{podSelector: {matchLabels: {app: other}}}], ports: [{port: 80}]}]}}
              steps:
                - probe: {from: [node/node-0], to: [x/l4, x/l3], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(yaml, file: "fxfpln.yaml")
        let lines = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1.map(\.flow)
        func verdicts(_ pod: String) -> [Int?] {
            lines.filter { $0.destination.pod_name == pod && $0.event_type.type == 5 }.map(\.policy_match_type)
        }
        #expect(verdicts("l4") == [PolicyMatchType.l4Only.rawValue])
        #expect(verdicts("l3") == [PolicyMatchType.l3Only.rawValue])
    }
}
