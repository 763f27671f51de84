import Foundation
import KeycardScenario
import Testing

@testable import KeycardCommands

/// A `command:` naming a program this machine lacks is said before `keycard run` fails on it.
@Suite struct HostProgramsTests {
    private func timeline(_ command: String) throws -> Timeline {
        try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: programs}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}, spec: {containers: [{name: c, image: i, command: \(command)}]}}
              steps:
                - probe: {ports: [TCP/80]}
            """, file: "programs.yaml")
    }

    @Test func aMissingProgramIsNamedOnce() throws {
        let warnings = HostPrograms.warnings(try timeline("[keycard-no-such-program, --port, '80']"), path: "/usr/bin:/bin")
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("pod x/a: command \"keycard-no-such-program\" is not a program on this machine") == true)
        // At the pod's place in the file.
        #expect(warnings.first?.hasPrefix("programs.yaml:7:7: warning: ") == true, "\(warnings)")
    }

    @Test func programsFoundByNameOrPathAreFine() throws {
        #expect(HostPrograms.warnings(try timeline("[sh, -c, 'sleep 1']"), path: "/usr/bin:/bin").isEmpty)
        #expect(HostPrograms.warnings(try timeline("[/bin/sh, -c, 'sleep 1']"), path: "").isEmpty)
        #expect(!HostPrograms.warnings(try timeline("[sh]"), path: "/nonexistent").isEmpty, "found only through PATH")
    }
}
