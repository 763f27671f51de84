import Testing

@testable import KeycardModel

/// The verdict's reasons: which policies isolate each side, and every rule that allows.
@Suite("Verdict provenance")
struct ProvenanceTests {
    /// Two policies select prod/web for ingress; the second allows dev/client through its rule 1,
    /// peer 1, port 2. Policies are additive, so isolation names both and the allow names that rule.
    @Test func allowingRuleIsNamedWithItsIndices() {
        let first = policy("prod", "a-only-api", select: sel(["app": "web"]), ingress: [rule([.pods(sel(["app": "api"]))])])
        let second = policy(
            "prod", "b-dev", select: sel(["tier": "front"]),
            ingress: [
                rule([.pods(sel(["app": "db"]))]),
                rule([.block("203.0.113.0/24"), .namespaces(sel(["env": "dev"]))], ports: [.udp(80), .tcp(443), .tcp(80)]),
            ])
        let verdict = World.verdict([second, first], at("dev/client"), at("prod/web"), tcp(80))
        #expect(verdict.decision == .allow)
        #expect(verdict.egress.outcome == .notIsolated)
        #expect(verdict.ingress.outcome == .allowed)
        #expect(verdict.ingress.isolatingPolicies == [ObjectKey("prod", "a-only-api"), ObjectKey("prod", "b-dev")])
        #expect(
            verdict.ingress.allowingRules == [
                RuleRef(policy: ObjectKey("prod", "b-dev"), direction: .ingress, ruleIndex: 1, peerIndex: 1, portIndex: 2)
            ])
        #expect(verdict.ingress.allowingRules.first?.description == "prod/b-dev ingress[1] from[1], ports[2]")
    }

    /// Every allowing rule is listed, from every policy (additive).
    @Test func everyAllowingRuleIsListed() {
        let policies = [
            policy("prod", "p1", ingress: [rule([.pods(sel(["app": "api"]))])]),
            policy("prod", "p2", ingress: [rule(nil, ports: [.tcp(80)]), rule()]),
        ]
        let verdict = World.verdict(policies, at("prod/api"), at("prod/web"), tcp(80))
        #expect(verdict.decision == .allow)
        #expect(
            Set(verdict.ingress.allowingRules) == [
                RuleRef(policy: ObjectKey("prod", "p1"), direction: .ingress, ruleIndex: 0, peerIndex: 0, portIndex: nil),
                RuleRef(policy: ObjectKey("prod", "p2"), direction: .ingress, ruleIndex: 0, peerIndex: nil, portIndex: 0),
                RuleRef(policy: ObjectKey("prod", "p2"), direction: .ingress, ruleIndex: 1, peerIndex: nil, portIndex: nil),
            ])
        #expect(
            RuleRef(policy: ObjectKey("prod", "p2"), direction: .ingress, ruleIndex: 1, peerIndex: nil, portIndex: nil).description
                == "prod/p2 ingress[1] any peer, any port")
    }

    /// Denied by the source's egress: the egress side names the isolating policy and no rule; the
    /// destination's side is not isolated.
    @Test func deniedByEgress() {
        let verdict = World.verdict([policy("prod", "deny-egress", types: [.egress])], at("prod/web"), at("prod/api"), tcp(8080))
        #expect(verdict.decision == .deny)
        #expect(
            verdict.egress == DirectionVerdict(outcome: .denied, isolatingPolicies: [ObjectKey("prod", "deny-egress")], allowingRules: []))
        #expect(verdict.ingress.outcome == .notIsolated)
        #expect(verdict.ingress.isolatingPolicies.isEmpty)
    }

    /// An egress allow names the `to` peer.
    @Test func egressRuleRef() {
        let web = policy(
            "prod", "web-out", select: sel(["app": "web"]), types: [.egress],
            egress: [rule([.pods(sel(["app": "db"])), .pods(sel(["app": "api"]))], ports: [.named("http")])])
        let verdict = World.verdict([web], at("prod/web"), at("prod/api"), tcp(8080))
        #expect(verdict.decision == .allow)
        let ref = RuleRef(policy: ObjectKey("prod", "web-out"), direction: .egress, ruleIndex: 0, peerIndex: 1, portIndex: 0)
        #expect(verdict.egress.allowingRules == [ref])
        #expect(ref.description == "prod/web-out egress[0] to[1], ports[0]")
    }

    /// Self traffic, and externals as the far end.
    @Test func outcomesForSelfAndExternals() {
        let deny = policy("prod", "deny-all", types: [.ingress, .egress])
        let selfVerdict = World.verdict([deny], at("prod/web"), at("prod/web"), tcp(80))
        #expect(selfVerdict.egress.outcome == .selfTraffic && selfVerdict.ingress.outcome == .selfTraffic)
        #expect(selfVerdict.decision == .allow)
        let out = World.verdict([], at("prod/web"), ext("public"), tcp(443))
        #expect(out.egress.outcome == .notIsolated)
        #expect(out.ingress.outcome == .notApplicable)
        // An external source has no egress side of its own; the pod's ingress still judges it.
        let inbound = World.verdict([deny], ext("public"), at("prod/web"), tcp(80))
        #expect(inbound.egress.outcome == .notApplicable)
        #expect(inbound.ingress.outcome == .denied)
        #expect(inbound.decision == .deny)
    }
}
