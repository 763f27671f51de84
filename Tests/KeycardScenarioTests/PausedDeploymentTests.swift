import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A Deployment `d` in prod (written at column 1) with `app: d, v: <version>` pods serving 80.
private func deployment(paused: String?, replicas: Int = 2, version: String = "one") -> String {
    """
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: d, namespace: prod}
      spec:
        \(paused.map { "paused: \($0)" } ?? "")
        replicas: \(replicas)
        selector: {matchLabels: {app: d}}
        template:
          metadata: {labels: {app: d, v: \(version)}}
          spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
    """
}

private func pausedTimeline(_ resources: String, steps: String? = nil) throws -> Timeline {
    try ScenarioLoader.parseTimeline(T.scenario(resources: resources, steps: steps), file: "paused.yaml")
}

private let key = WorkloadKey(.deployment, "prod", "d")

/// `spec.paused` (apps/v1 DeploymentSpec): the deployment controller only scales a paused
/// Deployment (`dc.sync`), so no new ReplicaSet is made while it is paused
/// (test/integration/deployment TestPausedDeployment).
@Suite("Paused Deployments")
struct PausedDeploymentTests {
    @Test func createdPausedRunsNoPodAndIsWarned() throws {
        let t = try pausedTimeline(deployment(paused: "true"))
        #expect(t.initial.workloads[key] != nil, "the Deployment exists")
        #expect(t.initial.pods(of: key).isEmpty, "no ReplicaSet, no pod")
        #expect(t.everyPod.allSatisfy { if case .pod(let pod) = $0.object { pod.owner?.workload != key } else { true } })
        let warning = try #require(t.warnings.first { $0.message.contains("Deployment prod/d is paused") })
        #expect(warning.message.contains("runs no pod until resumed"))
        // Not paused (false, null or absent): two pods and no such warning.
        for paused in ["false", "null", nil] {
            let running = try pausedTimeline(deployment(paused: paused))
            #expect(running.initial.pods(of: key).count == 2, "paused: \(paused ?? "absent")")
            #expect(!running.warnings.contains { $0.message.contains("is paused") })
        }
    }

    @Test func pausedMustBeABoolean() throws {
        for value in ["\"true\"", "1", "yes please", "[true]"] {
            let error = try #require(throws: ScenarioError.self) { try pausedTimeline(deployment(paused: value)) }
            #expect(error.message.contains("spec.paused must be true or false"), "\(value): \(error)")
        }
    }

    /// A template applied while paused reaches no pod; a scale step still scales the current
    /// ReplicaSet (old template); resuming rolls the template out.
    @Test func pausedKeepsTheOldTemplateScalesAndResumes() throws {
        let steps = """
            - apply:
            \(T.indent(deployment(paused: "true", version: "two"), 4))
            - scale: {workload: prod/deployment/d, replicas: 3}
            - apply:
            \(T.indent(deployment(paused: nil, replicas: 3, version: "two"), 4))
            """
        let t = try pausedTimeline(deployment(paused: nil), steps: steps)
        let first = t.initial.pods(of: key)
        #expect(first.count == 2 && first.allSatisfy { $0.labels["v"] == "one" })
        let paused = t.cluster(afterStep: 1).pods(of: key)
        #expect(paused == first, "the template change is not rolled out while paused")
        let scaled = t.cluster(afterStep: 2).pods(of: key)
        #expect(scaled.count == 3 && scaled.allSatisfy { $0.labels["v"] == "one" })
        #expect(Set(first).isSubset(of: scaled))
        #expect(Set(scaled.map { $0.labels["pod-template-hash"] }).count == 1)
        let resumed = t.cluster(afterStep: 3).pods(of: key)
        #expect(resumed.count == 3 && resumed.allSatisfy { $0.labels["v"] == "two" })
        #expect(Set(resumed.map(\.key)).isDisjoint(with: scaled.map(\.key)))
    }

    /// Created paused, scaling makes no pod (there is no ReplicaSet to scale); resuming creates
    /// the ReplicaSet of the template then written.
    @Test func createdPausedThenScaledThenResumed() throws {
        let steps = """
            - scale: {workload: prod/deployment/d, replicas: 3}
            - apply:
            \(T.indent(deployment(paused: "false", replicas: 3, version: "two"), 4))
            """
        let t = try pausedTimeline(deployment(paused: "true"), steps: steps)
        #expect(t.cluster(afterStep: 1).pods(of: key).isEmpty)
        let resumed = t.cluster(afterStep: 2).pods(of: key)
        #expect(resumed.count == 3 && resumed.allSatisfy { $0.labels["v"] == "two" })
    }
}
