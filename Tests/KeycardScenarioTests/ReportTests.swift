import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// web may not send anywhere (Egress isolation, no rules); api is not isolated.
let egressDenyScenario = T.scenario(
    steps: """
        - apply:
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: deny-egress, namespace: prod}
              spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}
        - name: web cannot leave
          probe: {from: [prod/web, prod/api], to: [prod/api, prod/web], ports: [TCP/8080]}
          expect:
            TCP/8080: |
              -         prod/api  prod/web
              prod/web  X         #
              prod/api  #         .
        """)

private func json(_ report: Report) throws -> [String: Any] {
    let data = try JSONEncoder().encode(report)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

@Suite("ModelReport")
struct ReportTests {
    @Test func jsonShape() throws {
        let t = try timeline(egressDenyScenario)
        let object = try json(ModelReport.build(t))
        #expect(Set(object.keys) == ["scenario", "enforcement", "passed", "steps"])
        #expect(object["scenario"] as? String == "sample")
        #expect(object["enforcement"] as? String == "pod")
        #expect(object["passed"] as? Bool == true)
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.count == 2)
        #expect(steps[0]["index"] as? Int == 1)
        #expect(steps[0]["kind"] as? String == "apply")
        #expect(steps[0]["passed"] as? Bool == true)
        #expect(steps[0]["name"] == nil && steps[0]["results"] == nil)
        #expect(steps[1]["index"] as? Int == 2)
        #expect(steps[1]["name"] as? String == "web cannot leave")
        #expect(steps[1]["kind"] as? String == "probe")
        #expect(steps[1]["passed"] as? Bool == true)
        let results = try #require(steps[1]["results"] as? [[String: Any]])
        // Table order: port, then source, then destination (the probe's order).
        #expect(results.count == 4)
        for result in results {
            // `rule` only where a policy took part (web -> api: web's egress isolation).
            let ruled = result["from"] as? String == "prod/web" && result["to"] as? String == "prod/api"
            #expect(Set(result.keys) == Set(["from", "to", "port", "protocol", "expected", "model"] + (ruled ? ["rule"] : [])))
            if ruled { #expect(result["rule"] as? String == "prod/deny-egress#egress") }
            #expect(result["port"] as? Int == 8080)
            #expect(result["protocol"] as? String == "TCP")
        }
        let rows = results.map { "\($0["from"] as! String) \($0["to"] as! String) \($0["expected"] as! String) \($0["model"] as! String)" }
        #expect(
            rows == [
                // web is isolated for egress with no rule: denied (documentation: egress AND ingress).
                "prod/web prod/api deny deny",
                // A pod to itself is always allowed; the table does not check it (#).
                "prod/web prod/web ignored allow",
                "prod/api prod/api ignored allow",
                // api's egress and web's ingress are not isolated.
                "prod/api prod/web allow allow",
            ])
    }

    @Test func enforcementOverrideAndFailure() throws {
        let t = try timeline(egressDenyScenario)
        #expect(ModelReport.build(t, enforcement: .node).enforcement == .node)
        // An expectation the documentation contradicts fails the step and the report.
        let wrong = try timeline(egressDenyScenario.replacingOccurrences(of: "prod/web  X", with: "prod/web  ."))
        let report = ModelReport.build(wrong)
        #expect(!report.passed)
        #expect(report.steps[1].passed == false)
        #expect(report.steps[1].summary?.contains("1 expectations disagree with the model") == true)
    }

    /// The round trip the `run` report relies on: probe results decode as probe results.
    @Test func decodesBack() throws {
        let report = ModelReport.build(try timeline(egressDenyScenario))
        let decoded = try JSONDecoder().decode(Report.self, from: JSONEncoder().encode(report))
        guard case .probe(let first)? = decoded.steps[1].results?.first else {
            Issue.record("expected a probe result")
            return
        }
        var expected = ProbeResult(
            from: ObjectKey("prod", "web"), to: .pod(ObjectKey("prod", "api")), port: ProtocolPort(.tcp, 8080), expected: .deny,
            model: .deny)
        expected.rule = "prod/deny-egress#egress"
        #expect(first == expected)
    }
}
