import Foundation
import Glibc
import KeycardLab
import KeycardTestSupport
import Testing

/// A lab in audit mode stays in audit mode under the live verbs: `keycard up` of a scenario with
/// `spec.lab.mode: audit` programs logging rules that accept, `probe` and `apply` keep them so
/// (the record says `audit`), a would-be deny is observed allowed and agrees, `status` says so.
@Suite(.serialized) struct CliAuditLiveTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
    }

    @Test func upOfAnAuditScenarioKeepsAuditThroughProbeAndApply() throws {
        let scenario = try CliScenario(
            stem: "cli-aud", pods: [("x", "a"), ("x", "b")],
            extra: [
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: x}, "
                    + "spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Ingress]}}"
            ])
        defer { scenario.cleanUp() }
        let text = try String(contentsOfFile: scenario.file, encoding: .utf8)
        try text.replacingOccurrences(of: "  lab: {nodes: 1}", with: "  lab: {nodes: 1, mode: audit}")
            .write(toFile: scenario.file, atomically: true, encoding: .utf8)
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let netns = "kc-\(scenario.lab).pod.x.a"
        func ruleset(_ netns: String = netns) throws -> String { try runWitness(["ip", "netns", "exec", netns, "nft", "list", "ruleset"]) }
        #expect(try ruleset().contains("kc audit ingress x/a"))
        #expect(try !ruleset().contains("kc deny ingress x/a"))

        // The would-be deny got through, as audit mode must, and the live probe agrees.
        let probe = try KeycardCLI.probeOne(scenario.lab, from: "x/b", to: "x/a")
        #expect(probe.observed == "allow" && probe.model == "deny" && probe.code == 0, "\(probe)")
        #expect(try ruleset().contains("kc audit ingress x/a"))
        #expect(try !ruleset().contains("kc deny ingress x/a"))

        // A live apply reprograms in audit mode too.
        let policy = try scenario.write("deny-b.yaml", CliScenario.denyIngress("x", podLabel: "b"))
        #expect(try KeycardCLI.run(["apply", scenario.lab, "-f", policy]).code == 0)
        #expect(try ruleset("kc-\(scenario.lab).pod.x.b").contains("kc audit ingress x/b"))
        #expect(try KeycardCLI.probeOne(scenario.lab, from: "x/a", to: "x/b").observed == "allow")

        let status = try KeycardCLI.status(scenario.lab)
        #expect(status["mode"] as? String == "audit")
    }
}
