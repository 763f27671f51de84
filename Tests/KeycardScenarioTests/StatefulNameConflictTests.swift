import KeycardModel
import Testing

@testable import KeycardScenario

/// A bare pod named as a StatefulSet's pod (`db-0` beside StatefulSet `db`): the API server
/// accepts both; the controller adopts it when its selector matches it (`isMemberOf`,
/// `ClaimPods`), else it cannot create that ordinal's pod (FailedCreate: AlreadyExists).
@Suite("StatefulSet pod names held by a bare pod")
struct StatefulNameConflictTests {
    static func timeline(labels: String, policy: String) throws -> Timeline {
        try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: sts-names}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: db-0, labels: \(labels)}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db}, spec: {replicas: 3, podManagementPolicy: \(policy), selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432}]}]}}}}
            """, file: "sts.yaml")
    }

    static let key = WorkloadKey(.statefulSet, "default", "db")

    /// Unselected, with Parallel: db-0 stays the bare pod, db-1 and db-2 run, and a warning at the
    /// StatefulSet says db-0 cannot be created.
    @Test func anUnselectedBarePodLeavesItsOrdinalEmpty() throws {
        let t = try Self.timeline(labels: "{app: legacy}", policy: "Parallel")
        let cluster = t.cluster(afterStep: 0)
        #expect(cluster.pods[ObjectKey("default", "db-0")]?.owner == nil)
        #expect(Set(cluster.pods(of: Self.key).map(\.name)) == ["db-1", "db-2"])
        let warning = try #require(t.warnings.first { $0.message.contains("pod default/db-0 cannot be created") })
        #expect(warning.location.line == 7)
    }

    /// With OrderedReady the ordinals after it wait: no pod runs.
    @Test func orderedReadyWaitsForTheBlockedOrdinal() throws {
        let t = try Self.timeline(labels: "{app: legacy}", policy: "OrderedReady")
        #expect(t.cluster(afterStep: 0).pods(of: Self.key).isEmpty)
    }

    /// Selected: the controller adopts db-0 (replaced at its revision) and runs three pods.
    @Test func aSelectedBarePodIsAdopted() throws {
        let cluster = try Self.timeline(labels: "{app: db}", policy: "OrderedReady").cluster(afterStep: 0)
        #expect(Set(cluster.pods(of: Self.key).map(\.name)) == ["db-0", "db-1", "db-2"])
        #expect(cluster.pods.values.filter { $0.owner == nil && $0.name.hasPrefix("db-") }.isEmpty)
    }
}
