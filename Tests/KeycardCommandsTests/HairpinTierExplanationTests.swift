import Foundation
import KeycardTestSupport
import Testing

/// `keycard explain` of a pod reaching itself through its Service, with ClusterNetworkPolicies:
/// that hairpin is subject to ClusterNetworkPolicy (network-policy-api api-overview, "hairpin"),
/// so the explanation says the tiers judged it rather than that a pod reaching itself is always
/// allowed, which holds for a pod connecting to its own Pod IP.
@Suite struct HairpinTierExplanationTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: hairpin-explain}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: a, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: a}, spec: {selector: {app: web}, ports: [{port: 80}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: a}, spec: {podSelector: {}, policyTypes: [Ingress, Egress]}}
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: c}
              spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Pass, from: [{namespaces: {}}]}]}
        """

    @Test func aServiceHairpinJudgedByTheTiersIsNotCalledAlwaysAllowed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-hairpin-\(UUID().uuidString).yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["explain", file.path, "--from", "a/web", "--to", "svc/a/web", "--port", "TCP/80"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("always allowed"), "\(result.stdout)")
        #expect(result.stdout.contains("a pod reaching itself through a Service: ClusterNetworkPolicy applies"), "\(result.stdout)")
    }
}
