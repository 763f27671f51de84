import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// Calico's StagedKubernetesNetworkPolicy: decoded as a NetworkPolicy plus `stagedAction`, kept
/// apart from the enforced policies, and reported as what enforcing it would change.
@Suite struct StagedPolicyTests {
    typealias T = ScenarioText

    static func staged(_ spec: String, name: String = "deny-api") -> String {
        """
        - apiVersion: projectcalico.org/v3
          kind: StagedKubernetesNetworkPolicy
          metadata: {name: \(name), namespace: prod}
          spec: \(spec)
        """
    }

    static let probe = """
        - name: web to api
          probe: {from: [prod/web], to: [prod/api], ports: [TCP/8080]}
        """

    @Test func stagedIsNeverEnforcedButReported() throws {
        let text = T.scenario(
            resources: Self.staged("{podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress]}"), steps: Self.probe)
        let t = try timeline(text)
        let cluster = t.cluster(afterStep: 1)
        #expect(cluster.policies.isEmpty)
        #expect(cluster.stagedPolicies[ObjectKey("prod", "deny-api")]?.action == .set)
        let report = ModelReport.build(t)
        guard case .probe(let cell)? = report.steps[0].results?.first else {
            Issue.record("expected a probe cell")
            return
        }
        #expect(cell.model == .allow)
        #expect(cell.staged == "would-deny")
        #expect(
            report.steps[0].staged == [
                AuditedPolicy(policy: "prod/deny-api#ingress", wouldDeny: 1, cells: ["prod/web -> prod/api TCP/8080"])
            ])
    }

    @Test func stagedDeleteWouldRemoveAnEnforcedPolicy() throws {
        let enforced = T.policy("{podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress]}", name: "deny-api")
        let text = T.scenario(resources: enforced + "\n" + Self.staged("{stagedAction: Delete}"), steps: Self.probe)
        let report = ModelReport.build(try timeline(text))
        guard case .probe(let cell)? = report.steps[0].results?.first else {
            Issue.record("expected a probe cell")
            return
        }
        #expect(cell.model == .deny)
        #expect(cell.staged == "would-allow")
    }

    @Test func badStagedActionAndForeignFieldsAreRefused() throws {
        let bad = try #require(parseError(T.scenario(resources: Self.staged("{stagedAction: Remove}"))))
        #expect(bad.message == "spec.stagedAction must be Set or Delete, found Remove")
        let foreign = try #require(parseError(T.scenario(resources: Self.staged("{selector: all()}"))))
        #expect(foreign.message.contains("selector"))
        let version = try #require(
            parseError(T.scenario(resources: Self.staged("{}").replacingOccurrences(of: "projectcalico.org/v3", with: "v1"))))
        #expect(version.message.contains("projectcalico.org/v3"))
    }
}
