import Foundation
import KeycardTestSupport
import Testing

/// A step a scenario does not have, asked for on the command line (`keycard diff FILE@N`,
/// `--after-step N`): `file:line:col: message` at the scenario's last step, exit 2, and the same
/// words for every command (no root needed).
@Suite("step out of range")
struct StepRangeTests {
    /// Two steps; the last one starts at line 11, column 7.
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: steps}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
          steps:
            - apply:
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: x}, spec: {podSelector: {}}}
            - probe: {from: [x/a], to: [x/a]}

        """
    static let noSteps = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: nosteps}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}

        """

    private func withFile(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-steps-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func diffNamesTheFileAndLineOfAStepOutOfRange() throws {
        try withFile(Self.scenario) { path in
            let old = try KeycardBinary.run(["diff", "\(path)@99", path])
            #expect(old.status == 2)
            #expect(old.stdout.isEmpty)
            #expect(old.stderr == "\(path):11:7: \(path)@99: there is no step 99; choose 0 (its resources) to 2 (its last step)\n")
            let new = try KeycardBinary.run(["diff", path, "\(path)@3"])
            #expect(new.status == 2)
            #expect(new.stderr.hasPrefix("\(path):11:7: \(path)@3: there is no step 3;"), "\(new.stderr)")
            // The last step and the resources are in range.
            #expect(try KeycardBinary.run(["diff", "\(path)@0", "\(path)@2"]).status == 0)
            // A step that is no whole number is refused as one out of range, not as a missing file.
            for written in ["-1", "x", ""] {
                let odd = try KeycardBinary.run(["diff", "\(path)@\(written)", path])
                #expect(odd.status == 2)
                #expect(odd.stderr.hasPrefix("\(path):11:7: \(path)@\(written): "), "\(odd.stderr)")
                #expect(odd.stderr.hasSuffix("; choose 0 (its resources) to 2 (its last step)\n"), "\(odd.stderr)")
            }
        }
    }

    @Test func afterStepSaysTheSame() throws {
        try withFile(Self.scenario) { path in
            for verb in ["rules", "explain"] {
                var arguments = [verb, path, "--after-step", "99"]
                if verb == "explain" { arguments += ["--from", "x/a", "--to", "x/a", "--port", "TCP/80"] }
                let result = try KeycardBinary.run(arguments)
                #expect(result.status == 2, "\(verb): \(result.stderr)")
                #expect(
                    result.stderr.hasSuffix(
                        "\(path):11:7: --after-step 99: there is no step 99; choose 0 (its resources) to 2 (its last step)\n"),
                    "\(verb): \(result.stderr)")
            }
        }
    }

    @Test func aScenarioWithoutStepsPointsAtItsStart() throws {
        try withFile(Self.noSteps) { path in
            let result = try KeycardBinary.run(["diff", "\(path)@1", path])
            #expect(result.status == 2)
            #expect(result.stderr == "\(path):1:1: \(path)@1: there is no step 1; it has no steps: only 0, its resources\n")
        }
    }
}
