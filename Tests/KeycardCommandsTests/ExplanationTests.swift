import Foundation
import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

@testable import KeycardCommands

/// prod: web, api, db. Step 1 isolates every prod pod for Egress (no rules) and lets web reach db
/// on TCP/5432.
private let scenario = """
    apiVersion: keycard/v1
    kind: Scenario
    metadata: {name: explain}
    spec:
      resources:
        - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
        - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
        - {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod, labels: {app: api}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
        - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: prod, labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
      steps:
        - apply:
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny-egress, namespace: prod}, spec: {podSelector: {}, policyTypes: [Egress]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: web-to-db, namespace: prod}
              spec:
                podSelector: {matchLabels: {app: web}}
                policyTypes: [Egress]
                egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
    """

private func explain(_ from: String, _ to: String, _ port: String, afterStep step: Int) throws -> Explanation {
    let timeline = try Timeline(ScenarioLoader.parse(scenario, file: "explain.yaml"))
    let cluster = timeline.cluster(afterStep: step)
    let verdict = PolicyEngine(cluster).evaluate(
        from: try #require(Endpoint.parse(from)), to: try #require(Endpoint.parse(to)), port: try #require(ProtocolPort.parse(port)))
    return Explanation(verdict, cluster: cluster, afterStep: step, of: timeline.scenario.steps.count)
}

@Suite("explain output")
struct ExplanationTests {
    /// web is isolated for egress by both policies and neither has a rule to api: denied by the
    /// source's egress, although api's ingress is not isolated.
    @Test func deniedByEgressText() throws {
        let text = try explain("prod/web", "prod/api", "TCP/8080", afterStep: 1).text
        #expect(
            text == """
                prod/web -> prod/api TCP/8080, after step 1 of 1: DENY
                  egress of prod/web: denied
                    isolated by: prod/deny-egress, prod/web-to-db
                    no egress rule of these policies allows prod/api on TCP/8080
                  ingress of prod/api: not isolated
                    no NetworkPolicy with Ingress in its policyTypes selects it: everything is allowed
                """)
    }

    @Test func deniedByEgressJSON() throws {
        let data = try JSONEncoder().encode(explain("prod/web", "prod/api", "TCP/8080", afterStep: 1))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["from", "to", "port", "protocol", "afterStep", "decision", "egress", "ingress"])
        #expect(object["from"] as? String == "prod/web")
        #expect(object["to"] as? String == "prod/api")
        #expect(object["port"] as? Int == 8080)
        #expect(object["protocol"] as? String == "TCP")
        #expect(object["afterStep"] as? Int == 1)
        #expect(object["decision"] as? String == "deny")
        let egress = try #require(object["egress"] as? [String: Any])
        #expect(Set(egress.keys) == ["pod", "direction", "outcome", "isolatedBy", "selectors", "allowedBy"])
        #expect(egress["pod"] as? String == "prod/web")
        #expect(egress["direction"] as? String == "egress")
        #expect(egress["outcome"] as? String == "denied")
        #expect(egress["isolatedBy"] as? [String] == ["prod/deny-egress", "prod/web-to-db"])
        #expect(egress["allowedBy"] as? [String] == [])
        let ingress = try #require(object["ingress"] as? [String: Any])
        #expect(ingress["pod"] as? String == "prod/api")
        #expect(ingress["outcome"] as? String == "not isolated")
        #expect(ingress["isolatedBy"] as? [String] == [])
    }

    /// The allowed flow names the rule: policy, direction, rule, peer and port indices.
    @Test func allowedNamesTheRule() throws {
        let text = try explain("prod/web", "prod/db", "TCP/5432", afterStep: 1).text
        #expect(text.hasPrefix("prod/web -> prod/db TCP/5432, after step 1 of 1: ALLOW\n"))
        #expect(text.contains("    allowed by: prod/web-to-db egress[0] to[0], ports[0]"))
    }

    /// Before the step nothing is isolated.
    @Test func beforeTheStep() throws {
        let explanation = try explain("prod/web", "prod/api", "TCP/8080", afterStep: 0)
        #expect(explanation.decision == "allow")
        #expect(explanation.text.hasPrefix("prod/web -> prod/api TCP/8080, after step 0 of 1: ALLOW"))
        #expect(explanation.egress.outcome == "not isolated")
    }
}
