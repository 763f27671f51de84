import Foundation
import KeycardTestSupport
import Testing

/// Two scenarios that need the same lab, in one `keycard run`: the lab is built once, the second
/// scenario reprograms its own policies on it, both pass, and nothing is left behind.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct LabReuseTests {
    static func scenario(_ name: String, policy: String, expect: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x, labels: {app: b}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
        \(policy)
          steps:
            - probe: {from: [x/a, x/b], to: [x/a, x/b], ports: [TCP/80]}
              expect:
                TCP/80: |
        \(expect)

        """
    }

    @Test func twoScenariosOneLab() throws {
        let first = Hardening.labName("reuse")
        let second = Hardening.labName("reuse")
        let open = Self.scenario(
            first, policy: "",
            expect: "          -    x/a  x/b\n          x/a  .    .\n          x/b  .    .")
        let denyB = Self.scenario(
            second,
            policy:
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny-b, namespace: x}, spec: {podSelector: {matchLabels: {app: b}}, policyTypes: [Ingress]}}",
            expect: "          -    x/a  x/b\n          x/a  .    X\n          x/b  .    .")
        let firstFile = try Hardening.writeScenario(open)
        let secondFile = try Hardening.writeScenario(denyB)
        defer {
            _ = Hardening.down(first)
            _ = Hardening.down(second)
        }
        let result = Hardening.run(KeycardBinary.path, ["run", "-v", firstFile, secondFile])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr.suffix(3000))")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains("lab built") }.count == 1, "\(result.stderr.suffix(3000))")
        #expect(lines.filter { $0.contains("lab reused") }.count == 1, "\(result.stderr.suffix(3000))")
        #expect(result.stdout.contains(first) && result.stdout.contains(second), "\(result.stdout)")
        #expect(Hardening.traces(lab: first, marker: nil).isEmpty)
        #expect(Hardening.traces(lab: second, marker: nil).isEmpty)
    }

    /// `local-node-policy.yaml` (`nodeIngress: policy`) and `local-node.yaml` (`allow`) share a lab:
    /// the second must not keep the first's local-node rule (its tables were updated object by
    /// object, and no object differs). Both orders, both placements.
    @Test(arguments: [("pod", false), ("node", true)])
    func nodeIngressChangesBetweenScenarios(_ enforcement: String, _ policyFirst: Bool) throws {
        let lab = Hardening.labName("reuse-ni")
        var files: [String] = []
        for name in ["local-node-policy", "local-node"] {
            let text = try String(contentsOfFile: RepositoryFiles.absolute("scenarios/\(name).yaml"), encoding: .utf8)
            // One lab name for both (the lab is named by the first scenario).
            let renamed = text.replacingOccurrences(of: "  name: \(name)\n", with: "  name: \(lab)\n")
            #expect(renamed != text, "the scenario's metadata.name line changed shape")
            files.append(try Hardening.writeScenario(renamed, name: "\(name).yaml"))
        }
        if !policyFirst { files.reverse() }
        defer { _ = Hardening.down(lab) }
        let result = Hardening.run(KeycardBinary.path, ["run", "-v", "--enforcement", enforcement] + files)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr.suffix(3000))")
        #expect(result.stderr.split(separator: "\n").contains { $0.contains("lab reused") }, "\(result.stderr.suffix(3000))")
        #expect(Hardening.traces(lab: lab, marker: nil).isEmpty)
    }
}
