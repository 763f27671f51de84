import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// `keycard up` in node placement programs the tables `keycard run` does: with a
/// ClusterNetworkPolicy and two host-network pods on one node, it had given both pods map entries
/// under the node's one address, and the kernel refused the batch ("File exists"). As root.
@Suite("CLI: up with host-network pods and cluster tiers", .serialized)
struct CliUpHostNetworkTiersTests {
    @Test func upProgramsANodeRunningTwoHostNetworkPods() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        let lab = uniqueLabName("hn-tier")
        let file = NSTemporaryDirectory() + "keycard-\(lab).yaml"
        try HostNetworkTierScenario.text(name: lab).write(toFile: file, atomically: true, encoding: .utf8)
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: file)
        }
        let built = try KeycardCLI.run(["up", file])
        #expect(built.code == 0, "\(built.out)\(built.err)")
    }
}
