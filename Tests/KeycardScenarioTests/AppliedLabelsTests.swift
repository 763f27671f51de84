import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private func timeline(_ text: String) throws -> Timeline { try ScenarioLoader.parseTimeline(text, file: "labels.yaml") }

/// `kubectl apply`'s three-way merge of `metadata.labels` ("Merging changes to map fields",
/// kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config): an apply sets what its
/// manifest writes, removes what the last applied manifest wrote and this one leaves out, and keeps
/// the rest, such as a label a `label` step added (it had been dropped, flipping verdicts).
@Suite("Applying a Pod or Namespace merges its labels three ways, as kubectl apply does")
struct AppliedLabelsTests {
    static let pod = ObjectKey("default", "web")

    static func scenario(steps: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: applied-labels}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a, labels: {team: a}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web, tier: front}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
          steps:
        \(steps)
        """
    }

    @Test func aLabelAddedByALabelStepOutlivesAnApply() throws {
        let t = try timeline(
            Self.scenario(
                steps: """
                        - label: {kind: Pod, namespace: default, name: web, labels: {app: web, tier: front, quarantine: "true"}}
                        - apply:
                            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web, tier: back}, annotations: {x: y}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                        - label: {kind: Namespace, name: a, labels: {team: a, trusted: "yes"}}
                        - apply:
                            - {apiVersion: v1, kind: Namespace, metadata: {name: a, labels: {team: a}, annotations: {owner: platform}}}
                    """))
        #expect(t.cluster(afterStep: 2).pods[Self.pod]?.labels == ["app": "web", "tier": "back", "quarantine": "true"])
        #expect(t.cluster(afterStep: 4).namespaces["a"]?.labels["trusted"] == "yes")
    }

    /// A label the last manifest wrote and the new one leaves out is removed; a built-in namespace
    /// no manifest declared keeps every label a manifest does not write.
    @Test func aLabelTheLastManifestWroteIsRemoved() throws {
        let t = try timeline(
            Self.scenario(
                steps: """
                        - apply:
                            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                        - label: {kind: Namespace, name: default, labels: {trusted: "yes"}}
                        - apply:
                            - {apiVersion: v1, kind: Namespace, metadata: {name: default, labels: {env: prod}}}
                    """))
        #expect(t.cluster(afterStep: 1).pods[Self.pod]?.labels == ["app": "web"])
        #expect(t.cluster(afterStep: 1).namespaces["a"]?.labels == [Namespace.nameLabel: "a"])
        #expect(t.cluster(afterStep: 3).namespaces["default"]?.labels == [Namespace.nameLabel: "default", "trusted": "yes", "env": "prod"])
    }

    @Test func theMergeOfAMap() {
        #expect(
            ClusterChange.mergedLabels(live: ["a": "1", "b": "2", "c": "3"], lastApplied: ["a": "1", "b": "2"], new: ["a": "9"]) == [
                "a": "9", "c": "3",
            ])
        #expect(ClusterChange.mergedLabels(live: ["a": "1", "b": "2"], lastApplied: nil, new: ["a": "9"]) == ["a": "9", "b": "2"])
    }
}
