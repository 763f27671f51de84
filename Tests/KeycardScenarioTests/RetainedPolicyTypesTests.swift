import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// `kubectl apply` of a NetworkPolicy over a live one: the API server defaults an empty
/// `policyTypes` once (`SetDefaults_NetworkPolicy`), and the three-way merge keeps a field that
/// neither the last applied manifest nor the new one writes ("defaulted fields are not
/// re-defaulted", kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config). A policy
/// created with ingress rules only and updated with egress rules keeps `[Ingress]`, so the
/// egress rules do nothing (hashicorp/vault-helm#662 after a `helm upgrade`).
private func timeline(_ text: String) throws -> Timeline { try ScenarioLoader.parseTimeline(text, file: "types.yaml") }

@Suite("NetworkPolicy updates keep a defaulted policyTypes, as kubectl apply does")
struct RetainedPolicyTypesTests {
    static let client = ObjectKey("default", "client")
    static let db = ObjectKey("default", "db")

    /// A scenario whose resources hold `created` (a NetworkPolicy `client-policy` spec, indented
    /// for a flow mapping) and whose steps apply `updates` of it, one step each.
    static func scenario(created: String, updates: [String]) -> String {
        let policy = { (spec: String) in
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: client-policy}, spec: {podSelector: {matchLabels: {app: client}}, \(spec)}}"
        }
        return """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: retained-types}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
                - \(policy(created))
              steps:
            \(updates.map { "    - apply: [\(policy($0))]" }.joined(separator: "\n"))
                - probe: {from: [default/client], to: [default/db]}
            """
    }

    static let egressToWeb = "egress: [{to: [{podSelector: {matchLabels: {app: web}}}]}]"

    /// client → db on 5432 after step `step`.
    static func clientReachesDB(_ timeline: Timeline, afterStep step: Int) -> Bool {
        PolicyEngine(timeline.cluster(afterStep: step)).evaluate(from: .pod(client), to: .pod(db), port: ProtocolPort(.tcp, 5432))
            .decision.allows
    }

    static func types(_ timeline: Timeline, afterStep step: Int) -> Set<NetworkPolicy.PolicyType>? {
        timeline.cluster(afterStep: step).policies[ObjectKey("default", "client-policy")]?.effectivePolicyTypes
    }

    @Test func egressRulesAddedByAnUpdateStaySwitchedOff() throws {
        let t = try timeline(Self.scenario(created: "ingress: [{}]", updates: ["ingress: [{}], \(Self.egressToWeb)"]))
        #expect(Self.types(t, afterStep: 1) == [.ingress])
        #expect(Self.clientReachesDB(t, afterStep: 1))
    }

    /// The reverse: egress rules removed, `[Ingress, Egress]` stays and the pod has no egress.
    @Test func egressRulesRemovedByAnUpdateLeaveTheEgressIsolation() throws {
        let t = try timeline(Self.scenario(created: "ingress: [{}], \(Self.egressToWeb)", updates: ["ingress: [{}]"]))
        #expect(Self.types(t, afterStep: 1) == [.ingress, .egress])
        #expect(!Self.clientReachesDB(t, afterStep: 1))
    }

    /// Writing `policyTypes` in the update sets them; an update that leaves out types the last
    /// manifest wrote clears the field, and the API server defaults it from the new rules.
    @Test func writtenTypesAndTypesTheLastManifestWroteAreDefaultedAfresh() throws {
        let written = try timeline(
            Self.scenario(created: "ingress: [{}]", updates: ["policyTypes: [Ingress, Egress], \(Self.egressToWeb)"]))
        #expect(!Self.clientReachesDB(written, afterStep: 1))
        let cleared = try timeline(
            Self.scenario(created: "policyTypes: [Ingress], ingress: [{}]", updates: ["ingress: [{}], \(Self.egressToWeb)"]))
        #expect(Self.types(cleared, afterStep: 1) == [.ingress, .egress])
        #expect(!Self.clientReachesDB(cleared, afterStep: 1))
    }

    /// The kept value carries through later updates that still write none, and goes once an
    /// update's own default equals it; applying the same manifest again changes nothing.
    @Test func theKeptTypesLastUntilAnUpdateDefaultsToThem() throws {
        let t = try timeline(
            Self.scenario(
                created: "ingress: [{}]",
                updates: [
                    "ingress: [{}], \(Self.egressToWeb)", "\(Self.egressToWeb)", "ingress: [{}]", "ingress: [{}], \(Self.egressToWeb)",
                ]))
        #expect([1, 2, 3, 4].map { Self.types(t, afterStep: $0) } == [[.ingress], [.ingress], [.ingress], [.ingress]])
        let policy = t.cluster(afterStep: 3).policies[ObjectKey("default", "client-policy")]
        #expect(policy?.retainedPolicyTypes == nil)
        let again = try timeline(Self.scenario(created: "ingress: [{}]", updates: ["ingress: [{}]"]))
        #expect(again.cluster(afterStep: 1).policies == again.initial.policies)
    }

    /// Deleting the policy and creating it again defaults its types from the new manifest.
    @Test func aRecreatedPolicyIsDefaultedFromItsRules() throws {
        func at(_ line: Int) -> KeycardScenario.SourceLocation { KeycardScenario.SourceLocation(file: "t", line: line, column: 1) }
        var cluster = Cluster()
        cluster.namespaces["default"] = Namespace(name: "default")
        let change = ClusterChange(scope: "in this test", batch: "the test")
        let created = NetworkPolicy(namespace: "default", name: "p", ingress: [.init()])
        var updated = created
        updated.egress = [.init(peers: [.init(podSelector: .everything)])]
        try change.apply([LoadedObject(.networkPolicy(created), at: at(1))], to: &cluster) { _ in nil }
        try change.apply([LoadedObject(.networkPolicy(updated), at: at(2))], to: &cluster) { _ in nil }
        #expect(cluster.policies[created.key]?.effectivePolicyTypes == [.ingress])
        try change.delete(
            [DeleteTarget(ref: ObjectRef(kind: .networkPolicy, namespace: "default", name: "p"), location: at(3))], from: &cluster)
        try change.apply([LoadedObject(.networkPolicy(updated), at: at(4))], to: &cluster) { _ in nil }
        #expect(cluster.policies[created.key]?.effectivePolicyTypes == [.ingress, .egress])
    }
}
