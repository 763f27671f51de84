import Foundation
import KeycardTestSupport
import Testing

/// `keycard explain --from` with a source it cannot read names every form `--help` lists.
@Suite("explain --from usage")
struct ExplainSourceUsageTests {
    @Test func aBadSourceNamesNodeSources() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-explain-\(UUID().uuidString).yaml").path
        try StepRangeTests.scenario.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try KeycardBinary.run(["explain", path, "--from", "a", "--to", "x/a", "--port", "TCP/80"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("namespace/name"), "\(result.stderr)")
        #expect(result.stderr.contains("external/NAME"), "\(result.stderr)")
        #expect(result.stderr.contains("node/NAME"), "\(result.stderr)")
        // The form the message offers is taken.
        #expect(try KeycardBinary.run(["explain", path, "--from", "node/node-0", "--to", "x/a", "--port", "TCP/80"]).status == 0)
    }

    /// A workload as either end is explained through its first replica, named on stderr.
    @Test func aWorkloadIsExplainedThroughItsFirstReplica() throws {
        let file = RepositoryFiles.absolute("scenarios/workloads.yaml")
        let result = try KeycardBinary.run([
            "explain", file, "--from", "shop/deployment/web", "--to", "shop/statefulset/db", "--port", "TCP/5432", "--after-step", "1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("shop/statefulset/db: explaining its replica shop/db-0"), "\(result.stderr)")
        #expect(result.stdout.contains("-> shop/db-0 TCP/5432, after step 1"), "\(result.stdout)")
        let gone = try KeycardBinary.run(["explain", file, "--from", "shop/deployment/web", "--to", "shop/db-0", "--port", "TCP/5432"])
        #expect(gone.status == 2 && gone.stderr.contains("shop/deployment/web has no pod after step"), "\(gone.stderr)")
    }
}
