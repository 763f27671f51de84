import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Deployment `d` in prod (at column 1), `replicas` written when given.
private func deployment(replicas: Int?, version: String) -> String {
    """
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: d, namespace: prod}
      spec:
        \(replicas.map { "replicas: \($0)" } ?? "")
        selector: {matchLabels: {app: d}}
        template:
          metadata: {labels: {app: d, v: "\(version)"}}
          spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
    """
}

/// `apply` after `scale`, as kubectl apply's three-way merge treats `spec.replicas`
/// (kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config: "The replicas field
/// retains the value of 2 set by kubectl scale ... because it is omitted from the configuration
/// file"): a field neither the last applied nor the new configuration names keeps its live value;
/// one the last wrote and the new omits is cleared to its default; one the new writes is set.
@Suite("apply after scale")
struct ApplyAfterScaleTests {
    private let key = WorkloadKey(.deployment, "prod", "d")

    private func podsAfterApply(first: Int?, second: Int?) throws -> [Pod] {
        let steps = """
            - scale: {workload: prod/deployment/d, replicas: 3}
            - apply:
            \(T.indent(deployment(replicas: second, version: "2"), 4))
            """
        let t = try ScenarioLoader.parseTimeline(
            T.scenario(resources: deployment(replicas: first, version: "1"), steps: steps), file: "scale.yaml")
        #expect(t.cluster(afterStep: 1).pods(of: key).count == 3)
        let pods = t.cluster(afterStep: 2).pods(of: key)
        #expect(pods.allSatisfy { $0.labels["v"] == "2" }, "the new template rolled out")
        return pods
    }

    @Test func omittedInBothKeepsTheScaledCount() throws {
        #expect(try podsAfterApply(first: nil, second: nil).count == 3)
    }

    @Test func omittedAfterBeingWrittenFallsBackToTheDefault() throws {
        #expect(try podsAfterApply(first: 2, second: nil).count == 1)
    }

    @Test func writtenAgainIsSet() throws {
        #expect(try podsAfterApply(first: nil, second: 2).count == 2)
        #expect(try podsAfterApply(first: 2, second: 2).count == 2)
    }
}
