import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A document that repeats an earlier object of the manifests is a second `kubectl apply` of it: the
/// cluster stores what the API server's update makes of it (the three-way merge keeps what neither
/// manifest writes; the registry keeps allocated values), exactly as when the same update is a
/// scenario's `apply` step. Both go through `ClusterChange` (docs/scenario-format.md, "Manifests mode").
@Suite("Manifests mode: a repeated object is updated as a scenario's apply step updates it")
struct ManifestReapplyTests {
    /// The cluster made by `base`, `created` and `update` (one-line flow mappings), as manifests
    /// (one file, one document each) and as a scenario (`base` and `created` its resources,
    /// `update` its one apply step).
    static func bothForms(base: [String] = [], created: String, update: String) throws -> (manifests: Cluster, step: Cluster) {
        let folder = try manifestsFolder(["all.yaml": (base + [created, update]).joined(separator: "\n---\n") + "\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let manifests = try ManifestLoader.timeline([folder], dns: false)
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: reapply}
            spec:
              resources:
            \((base + [created]).map { "    - \($0)" }.joined(separator: "\n"))
              steps:
                - apply: [\(update)]
            """
        let stepped = try ScenarioLoader.parseTimeline(scenario, file: "reapply.yaml")
        return (manifests.heldCluster(afterStep: 0).api, stepped.heldCluster(afterStep: 1).api)
    }

    static func pod(_ name: String) -> String {
        "{apiVersion: v1, kind: Pod, metadata: {name: \(name), labels: {app: \(name)}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}"
    }

    static func policy(_ rules: String) -> String {
        "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np}, spec: {podSelector: {matchLabels: {app: a}}, \(rules)}}"
    }

    static func service(_ spec: String) -> String { "{apiVersion: v1, kind: Service, metadata: {name: svc}, spec: {\(spec)}}" }

    static func job(_ fields: String) -> String {
        "{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {\(fields)template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}"
    }

    /// (a) NP-71: created with ingress rules only, re-applied with egress rules too: the stored
    /// policyTypes stay [Ingress] (`SetDefaults_NetworkPolicy` runs on create only), so a's egress
    /// to b on TCP/80 stays open.
    @Test func aReappliedPolicyKeepsItsDefaultedPolicyTypes() throws {
        let (manifests, step) = try Self.bothForms(
            base: [Self.pod("a"), Self.pod("b")], created: Self.policy("ingress: [{}]"),
            update: Self.policy("ingress: [{}], egress: [{ports: [{port: 53, protocol: UDP}]}]"))
        let key = ObjectKey("default", "np")
        #expect(manifests.policies[key] == step.policies[key])
        #expect(manifests.policies[key]?.effectivePolicyTypes == [.ingress])
        let verdict = PolicyEngine(manifests).evaluate(
            from: .pod(ObjectKey("default", "a")), to: .pod(ObjectKey("default", "b")), port: ProtocolPort(.tcp, 80))
        #expect(verdict.decision.allows)
    }

    /// (b) A headless Service re-applied without `clusterIP` stays headless: the registry keeps
    /// the stored clusterIP when the update writes none (`patchAllocatedValues`).
    @Test func aReappliedHeadlessServiceStaysHeadless() throws {
        let ports = "selector: {app: a}, ports: [{port: 80}]"
        let (manifests, step) = try Self.bothForms(
            base: [Self.pod("a")], created: Self.service("clusterIP: None, \(ports)"), update: Self.service(ports))
        let key = ObjectKey("default", "svc")
        #expect(manifests.services[key] == step.services[key])
        #expect(manifests.services[key]?.clusterIP == nil)
        #expect(manifests.services[key]?.address == step.services[key]?.address)
    }

    /// (c) A Job written without completions and parallelism stores completions 1
    /// (`SetDefaults_Job`); re-applied with `parallelism: 3` it keeps completions 1, so one pod.
    @Test func aReappliedJobKeepsItsStoredCompletions() throws {
        let (manifests, step) = try Self.bothForms(created: Self.job(""), update: Self.job("parallelism: 3, "))
        let key = WorkloadKey(.job, "default", "j")
        #expect(manifests.workloads[key]?.workload == step.workloads[key]?.workload)
        #expect(manifests.workloads[key]?.workload.completions == 1)
        #expect(manifests.pods(of: key).count == 1)
        #expect(step.pods(of: key).count == 1)
    }

    /// (d) OBJ-72 in manifests mode: node ports are kept by port name, so `http` keeps the node
    /// port it was given whatever its number now, and `admin` gets a new one.
    @Test func aReappliedNodePortServiceKeepsNodePortsByPortName() throws {
        let (manifests, step) = try Self.bothForms(
            created: Self.service("type: NodePort, ports: [{name: http, port: 80}]"),
            update: Self.service("type: NodePort, ports: [{name: admin, port: 9000}, {name: http, port: 8080}]"))
        let key = ObjectKey("default", "svc")
        #expect(manifests.services[key] == step.services[key])
        let first = try #require(
            try Self.bothForms(
                created: Self.service("type: NodePort, ports: [{name: http, port: 80}]"),
                update: Self.service("type: NodePort, ports: [{name: http, port: 80}]")
            ).manifests.services[key]?.ports.first?.nodePort)
        #expect(manifests.services[key]?.ports.first { $0.name == "http" }?.nodePort == first)
    }
}
