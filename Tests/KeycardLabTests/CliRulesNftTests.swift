import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// `keycard rules` prints nft syntax: nft itself (`nft -c`, check only, in a throwaway network
/// namespace) accepts the whole printed ruleset of every library scenario with Services, whose
/// endpoint chains DNAT (`meta l4proto tcp dnat ip to A:P`, as kube-proxy writes it: nft takes a
/// port mapping only after a transport protocol match).
@Suite(.serialized) struct CliRulesNftTests {
    @Test(arguments: [
        "scenarios/cluster-dns.yaml", "scenarios/external-traffic-policy.yaml", "scenarios/internet-to-workload.yaml",
        "scenarios/load-balancer-source-ranges.yaml", "scenarios/service-scan.yaml", "scenarios/zero-trust-blueprint.yaml",
    ])
    func printedRulesLoadInNft(_ scenario: String) throws {
        try #require(geteuid() == 0, "nft -c in a throwaway namespace needs root")
        let rules = try KeycardCLI.run(["rules", RepositoryFiles.absolute(scenario)])
        try #require(rules.code == 0, "\(rules.err)")
        #expect(rules.out.contains("dnat ip to"))
        let file = NSTemporaryDirectory() + "keycard-rules-\(getpid()).nft"
        try rules.out.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: Never.self) { try runChecked("/usr/bin/unshare", ["-n", "nft", "-c", "-f", file]) }
    }
}
