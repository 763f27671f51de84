import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A NetworkPolicy spec as written, and the policy the loader must produce: absent and empty
/// lists stay distinct, defaults are the API's.
struct DecodeCase: Sendable, CustomTestStringConvertible {
    var rule: String
    var spec: String
    var ingress: [NetworkPolicy.Rule]?
    var egress: [NetworkPolicy.Rule]?
    var policyTypes: [NetworkPolicy.PolicyType]?
    var effective: Set<NetworkPolicy.PolicyType>
    var testDescription: String { rule }
}

private typealias R = NetworkPolicy.Rule
private typealias P = NetworkPolicy.Port

let decodeCases: [DecodeCase] = [
    DecodeCase(
        rule: "no ingress field: nil, Ingress inferred", spec: "podSelector: {}",
        ingress: nil, egress: nil, policyTypes: nil, effective: [.ingress]),
    DecodeCase(
        rule: "ingress: [{}] is one rule with no peers and no ports", spec: "podSelector: {}\ningress: [{}]",
        ingress: [R()], egress: nil, policyTypes: nil, effective: [.ingress]),
    DecodeCase(
        rule: "egress: [] is kept empty, and infers no Egress", spec: "podSelector: {}\negress: []",
        ingress: nil, egress: [], policyTypes: nil, effective: [.ingress]),
    DecodeCase(
        rule: "egress rules infer Egress", spec: "podSelector: {}\negress: [{to: [{namespaceSelector: {}}]}]",
        ingress: nil, egress: [R(peers: [NetworkPolicy.Peer(namespaceSelector: .everything)])], policyTypes: nil,
        effective: [.ingress, .egress]),
    DecodeCase(
        rule: "from: [] and ports: [] stay empty lists", spec: "podSelector: {}\ningress: [{from: [], ports: []}]",
        ingress: [R(peers: [], ports: [])], egress: nil, policyTypes: nil, effective: [.ingress]),
    DecodeCase(
        rule: "port without protocol is TCP; endPort kept; named port kept",
        spec: "podSelector: {}\ningress: [{ports: [{port: 8000, endPort: 8080}, {protocol: UDP, port: dns}, {protocol: SCTP}]}]",
        ingress: [R(ports: [P(proto: .tcp, port: .number(8000), endPort: 8080), P(proto: .udp, port: .name("dns")), P(proto: .sctp)])],
        egress: nil, policyTypes: nil, effective: [.ingress]),
    DecodeCase(
        rule: "explicit policyTypes [Egress] with ingress rules", spec: "podSelector: {}\npolicyTypes: [Egress]\ningress: [{}]",
        ingress: [R()], egress: nil, policyTypes: [.egress], effective: [.egress]),
    DecodeCase(
        rule: "null fields are absent", spec: "podSelector: {}\ningress: null\npolicyTypes: ~",
        ingress: nil, egress: nil, policyTypes: nil, effective: [.ingress]),
]

@Suite("NetworkPolicy decoding")
struct PolicyDecodingTests {
    @Test("absent vs empty, defaults", arguments: decodeCases)
    func decode(_ c: DecodeCase) throws {
        let scenario = try ScenarioLoader.parse(T.scenario(resources: T.policy(c.spec)), file: "p.yaml")
        let policies = scenario.resources.compactMap { loaded -> NetworkPolicy? in
            if case .networkPolicy(let policy) = loaded.object { return policy }
            return nil
        }
        let policy = try #require(policies.first)
        #expect(policy.ingress == c.ingress, "\(c.rule)")
        #expect(policy.egress == c.egress, "\(c.rule)")
        #expect(policy.policyTypes == c.policyTypes, "\(c.rule)")
        #expect(policy.effectivePolicyTypes == c.effective, "\(c.rule)")
    }

    /// A peer with both selectors is one peer (AND), not two.
    @Test func bothSelectorsMakeOnePeer() throws {
        let spec =
            "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}, podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [a, b]}]}}]}]"
        let scenario = try ScenarioLoader.parse(T.scenario(resources: T.policy(spec)), file: "p.yaml")
        guard case .networkPolicy(let policy)? = scenario.resources.last?.object else {
            Issue.record("no policy")
            return
        }
        #expect(
            policy.ingress?.first?.peers == [
                NetworkPolicy.Peer(
                    podSelector: LabelSelector(matchExpressions: [.init(key: "app", operator: .notIn, values: ["a", "b"])]),
                    namespaceSelector: LabelSelector(matchLabels: ["env": "dev"]))
            ])
    }
}
