import Foundation
import KeycardKernel
import Testing

/// `keycard run A B -o json` where B cannot start (its lab name is in use): A's report, proved
/// with real packets, still reaches stdout, then the command exits 2 (review of the docs as a
/// newcomer, finding 3: stdout was empty).
@Suite("CLI: run reports what ran before a later scenario fails")
struct RunPartialReportTests {
    static func scenario(_ name: String, nodes: Int) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {nodes: \(nodes)}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Pod, metadata: {name: c, namespace: a}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: s, namespace: a}, spec: {containers: [{name: s, image: i, ports: [{containerPort: 80}]}]}}
          steps:
            - probe: {from: [a/c], to: [a/s], ports: [TCP/80]}
              expect: {default: allow}
        """
    }

    @Test func theFinishedScenarioIsReported() throws {
        let first = uniqueLabName("rpa")
        let second = uniqueLabName("rpb")
        let folder = NSTemporaryDirectory() + "keycard-partial-\(first)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A state directory holds the second scenario's lab name (as a lab left by a crash would);
        // two nodes against one, so the first lab cannot be handed over to it.
        let taken = "/run/keycard/\(second)"
        try FileManager.default.createDirectory(atPath: taken, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: taken)
            try? FileManager.default.removeItem(atPath: folder)
            _ = try? KeycardCLI.run(["down", first])
        }
        try Self.scenario(first, nodes: 1).write(toFile: "\(folder)/a.yaml", atomically: true, encoding: .utf8)
        try Self.scenario(second, nodes: 2).write(toFile: "\(folder)/b.yaml", atomically: true, encoding: .utf8)

        let result = try KeycardCLI.run(["run", "\(folder)/a.yaml", "\(folder)/b.yaml", "-o", "json"])
        #expect(result.code == 2, "\(result.err)")
        #expect(result.err.contains("is already in use"), "\(result.err)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]], "\(result.out)")
        #expect(reports.map { $0["scenario"] as? String } == [first])
        #expect(reports.first?["passed"] as? Bool == true)
        #expect(!NetworkNamespace.list().contains { $0.hasPrefix("kc-\(first).") }, "the first lab is torn down")
    }
}
