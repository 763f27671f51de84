import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// ICMP echo probes (issue 18 part 5): parsing, the model's common behaviour and the
/// implementation-defined marking.
@Suite("ICMP probes")
struct ICMPProbeTests {
    static let policies =
        T.policy(
            """
            podSelector: {matchLabels: {app: web}}
            ingress:
              - from: [{podSelector: {matchLabels: {app: api}}}]
                ports: [{port: 80}]
            """, name: "web")
        + "\n"
        + T.policy(
            """
            podSelector: {matchLabels: {app: api}}
            ingress:
              - from: [{podSelector: {matchLabels: {app: web}}}]
            """, name: "api")

    @Test func parsing() {
        #expect(ProtocolPort.parse("ICMP") == ProtocolPort.icmpEcho)
        #expect(ProtocolPort.icmpEcho.description == "ICMP")
        #expect(ProtocolPort.parse("ICMP/8") == nil)
        #expect(ProtocolPort.parse("icmp") == nil)
        #expect(!TransportProtocol.icmp.isKubernetes && TransportProtocol.tcp.isKubernetes)
    }

    /// A rule with ports never admits ICMP; a rule without ports does; a pod no policy isolates
    /// answers everyone. Only the cells a policy judged are implementation-defined.
    @Test func commonBehaviourAndMarking() throws {
        let t = try ScenarioLoader.parseTimeline(
            T.scenario(
                resources: Self.policies,
                steps: """
                    - probe: {from: [prod/web, prod/api], to: [prod/web, prod/api], ports: [ICMP]}
                      expect:
                        ICMP: |
                          -         prod/web  prod/api
                          prod/web  .         .
                          prod/api  X         .
                    """), file: "icmp.yaml")
        let cells = t.cells(ofProbeStep: 1).filter { $0.from != $0.to.sourceKey }
        let web = ObjectKey("prod", "web")
        let api = ObjectKey("prod", "api")
        let toWeb = try #require(cells.first { $0.from == api })
        let toAPI = try #require(cells.first { $0.from == web })
        #expect(toWeb.verdict.decision == .deny && toWeb.verdict.implementationDefined)
        #expect(toAPI.verdict.decision == .allow && toAPI.verdict.implementationDefined)
        #expect(ModelReport.build(t).passed)

        // The JSON says so; a TCP cell or an unjudged ICMP cell does not carry the field.
        let json = String(decoding: try JSONEncoder().encode(toWeb.result()), as: UTF8.self)
        #expect(json.contains("\"implementationDefined\":true"))
        #expect(json.contains("\"protocol\":\"ICMP\""))
        let plain = PolicyEngine(t.cluster(afterStep: 1)).evaluate(from: .pod(web), to: .pod(api), port: ProtocolPort(.tcp, 80))
        #expect(!plain.implementationDefined)
        var open = t.cluster(afterStep: 1)
        open.policies = [:]
        #expect(!PolicyEngine(open).evaluate(from: .pod(api), to: .pod(web), port: .icmpEcho).implementationDefined)
    }

    /// A side a ClusterNetworkPolicy rule decides is defined by that API (`networks` match ICMP, a
    /// rule without `protocols` matches any protocol), so its cell is not marked; a Pass that hands
    /// the side to an isolating NetworkPolicy is.
    @Test func clusterPolicyDecisionsAreDefined() throws {
        func verdict(_ rule: String, networkPolicy: String = "") throws -> Verdict {
            let cnp = """
                - apiVersion: policy.networking.k8s.io/v1alpha2
                  kind: ClusterNetworkPolicy
                  metadata: {name: guard}
                  spec:
                    tier: Admin
                    priority: 10
                    subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}
                    egress:
                      - {name: r, \(rule)}
                """
            let t = try ScenarioLoader.parseTimeline(T.scenario(resources: cnp + "\n" + networkPolicy), file: "cnp.yaml")
            return PolicyEngine(t.cluster(afterStep: 0)).evaluate(
                from: .pod(ObjectKey("prod", "api")), to: .pod(ObjectKey("prod", "web")), port: .icmpEcho)
        }
        let denied = try verdict("action: Deny, to: [{networks: [0.0.0.0/0]}]")
        #expect(denied.decision == .deny && !denied.implementationDefined)
        let accepted = try verdict("action: Accept, to: [{pods: {namespaceSelector: {}, podSelector: {}}}]")
        #expect(accepted.decision == .allow && !accepted.implementationDefined)
        let egressOnly = T.policy("podSelector: {matchLabels: {app: api}}\npolicyTypes: [Egress]", name: "api-out")
        let passed = try verdict("action: Pass, to: [{networks: [0.0.0.0/0]}]", networkPolicy: egressOnly)
        #expect(passed.decision == .deny && passed.implementationDefined)
        #expect(passed.egress.tiers.map(\.tier) == [.admin, .networkPolicy])
    }

    @Test func aServiceAnswersNoPing() throws {
        let service =
            "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}"
        let text = T.scenario(resources: service, steps: "- probe: {from: [prod/api], to: [svc/prod/web], ports: [ICMP]}")
        let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "bad.yaml") }
        #expect(error.message.contains("answers no ping"))
    }

    /// Decoding a report keeps the ICMP cell and its marking.
    @Test func reportRoundTrip() throws {
        var result = ProbeResult(
            from: ObjectKey("prod", "api"), to: .pod(ObjectKey("prod", "web")), port: .icmpEcho, expected: .deny, model: .deny)
        result.implementationDefined = true
        let decoded = try JSONDecoder().decode(ProbeResult.self, from: try JSONEncoder().encode(result))
        #expect(decoded == result)
    }
}
