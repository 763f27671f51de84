import Foundation
import KeycardTestSupport
import Testing

/// The JSON report's `rule` names the ClusterNetworkPolicy rule that decided a side, as the audit
/// summary and the flows name it (`ClusterNetworkPolicy/NAME#ingress[i]`): a tier's rule decides
/// without any NetworkPolicy isolating the pod (network-policy-api clusternetworkpolicy_types.go,
/// `Tier`), and `rule` had read NetworkPolicies only, so an Admin Deny left the cell without one.
@Suite struct ClusterPolicyAttributionTests {
    static func scenario(_ extra: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: attribution}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: a, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: cli, namespace: a, labels: {app: cli}}, spec: {containers: [{name: c, image: i}]}}
        \(extra)
          steps:
            - probe: {from: [a/cli], to: [a/web], ports: [TCP/80]}
        """
    }

    static func rules(_ extra: String) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-attribution-\(UUID().uuidString).yaml")
        try scenario(extra).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["model", file.path, "-o", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let steps = try #require(document["steps"] as? [[String: Any]], "\(result.stdout)")
        return steps.flatMap { ($0["results"] as? [[String: Any]]) ?? [] }.map { ($0["rule"] as? String) ?? "-" }
    }

    static let adminDeny = """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: guard}
              spec: {tier: Admin, priority: 1, subject: {pods: {podSelector: {matchLabels: {app: web}}}}, ingress: [{name: no-cli, action: Deny, from: [{pods: {podSelector: {matchLabels: {app: cli}}}}]}]}
        """

    @Test func anAdminDenyIsNamed() throws {
        #expect(try Self.rules(Self.adminDeny) == ["ClusterNetworkPolicy/guard#ingress[0]"])
    }

    @Test func aBaselineEgressDenyIsNamedBeforeTheNetworkPolicyThatDeniesIngress() throws {
        let rules = try Self.rules(
            """
                - apiVersion: policy.networking.k8s.io/v1alpha2
                  kind: ClusterNetworkPolicy
                  metadata: {name: base}
                  spec: {tier: Baseline, priority: 1, subject: {pods: {podSelector: {matchLabels: {app: cli}}}}, egress: [{action: Deny, to: [{pods: {podSelector: {}}}]}]}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: a}, spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}}
            """)
        #expect(rules == ["ClusterNetworkPolicy/base#egress[0], a/deny#ingress"])
    }

    @Test func anAdminAcceptIsNamedForAnAllowedCell() throws {
        let rules = try Self.rules(
            """
                - apiVersion: policy.networking.k8s.io/v1alpha2
                  kind: ClusterNetworkPolicy
                  metadata: {name: open}
                  spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Accept, from: [{namespaces: {}}]}]}
            """)
        #expect(rules == ["ClusterNetworkPolicy/open#ingress[0]"])
    }
}
