import Foundation
import KeycardTestSupport
import Testing

/// `keycard rules` prints the Service proxy table beside the policy tables: what a lab programs
/// for ClusterIPs (it had printed only policies and node ports).
@Suite struct RulesServiceProxyTests {
    static let file = RepositoryFiles.absolute("scenarios/internal-traffic-policy.yaml")

    @Test func everyNodesProxyTableIsPrintedOnceLocalServicesMakeThemDiffer() throws {
        let result = try KeycardBinary.run(["rules", Self.file])
        #expect(result.status == 0, "\(result.stderr)")
        let headings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("# Service proxy") }
        #expect(
            headings == [
                "# Service proxy (ClusterIP DNAT), in each pod namespace of node-0, after step 6 of 6",
                "# Service proxy (ClusterIP DNAT), in each pod namespace of node-1, after step 6 of 6",
            ], "\(headings)")
        #expect(result.stdout.contains("table inet kc-internal-traffic-policy-svc"))
    }

    @Test func aPodsViewHoldsItsNodesProxyTable() throws {
        let result = try KeycardBinary.run(["rules", Self.file, "--pod", "default/app-0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("# Service proxy (ClusterIP DNAT), in each pod namespace of node-0"))
        #expect(!result.stdout.contains("of node-1"))
        #expect(result.stdout.contains("has no local endpoints on node-0"))
    }

    /// `--pod` names pod enforcement's table and `--node` node enforcement's: a contrary
    /// `--enforcement` is refused (exit 2) rather than silently overridden; a matching one is fine.
    static let targets: [([String], Int32)] = [
        (["--pod", "default/app-0", "--enforcement", "node"], 2), (["--node", "node-0", "--enforcement", "pod"], 2),
        (["--pod", "default/app-0", "--enforcement", "pod"], 0), (["--node", "node-0", "--enforcement", "node"], 0),
    ]

    @Test(arguments: targets)
    func aTargetAndAContraryEnforcementAreRefused(_ arguments: [String], _ status: Int32) throws {
        let result = try KeycardBinary.run(["rules", Self.file] + arguments)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        if status == 2 {
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("enforcement"), "\(result.stderr)")
        }
    }
}

/// `keycard rules` prints the tables `keycard run` programs: with ClusterNetworkPolicies, the
/// Admin and Baseline tier chains around the NetworkPolicy tier (it had printed the NetworkPolicy
/// tier alone, as in a lab without tiers).
@Suite struct RulesTierTests {
    static let file = RepositoryFiles.absolute("scenarios/conformance/cnp/19-hairpin.yaml")

    @Test(arguments: [["--pod", "a/web"], ["--enforcement", "node"]])
    func theTierChainsArePrinted(_ target: [String]) throws {
        let result = try KeycardBinary.run(["rules", Self.file] + target)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Admin Deny a-no-pods/egress[0]"), "\(result.stdout)")
        #expect(result.stdout.contains("admin"))
    }
}

/// `keycard rules` of a `spec.lab.mode: audit` scenario prints the audit rules `run` programs:
/// the would-be drop logs and accepts (it had printed them as drops).
@Suite struct RulesAuditTests {
    @Test func auditModesDefaultDenyLogsAndAccepts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-rules-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/audit.yaml"
        try """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: rules-audit}
        spec:
          lab: {mode: audit}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny}, spec: {podSelector: {}, policyTypes: [Ingress]}}
          steps:
            - probe: {ports: [TCP/80]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try KeycardBinary.run(["rules", file, "--pod", "default/web"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("log prefix \"kc audit"), "\(result.stdout)")
        #expect(!result.stdout.contains("log prefix \"kc deny"), "\(result.stdout)")
    }
}
