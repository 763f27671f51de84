import Foundation
import Glibc
import KeycardLab
import Testing

/// A live lab meets its first ClusterNetworkPolicy through `keycard apply` and enforces it, in
/// both placements; deleting it restores the flat network. Root, real kernel; own lab names.
@Suite(.serialized) struct CliClusterPolicyTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    @Test(arguments: ["pod", "node"])
    func applyingAClusterPolicyToALiveLabEnforcesIt(_ enforcement: String) throws {
        let scenario = try CliScenario(stem: "cli-cnp", nodes: 2, pods: [("x", "a"), ("x", "b"), ("y", "c")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file, "--enforcement", enforcement])
        try #require(up.code == 0, "\(up.err)")
        #expect(try KeycardCLI.probeOne(scenario.lab, from: "y/c", to: "x/a").observed == "allow")
        let policy = try scenario.write(
            "cnp.yaml",
            """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: deny-y-into-x}
            spec:
              tier: Admin
              priority: 5
              subject: {namespaces: {matchLabels: {ns: x}}}
              ingress:
                - {name: from-y, action: Deny, from: [{namespaces: {matchLabels: {ns: y}}}]}

            """)
        let apply = try KeycardCLI.run(["apply", scenario.lab, "-f", policy])
        try #require(apply.code == 0, "\(apply.err)")
        let denied = try KeycardCLI.probeOne(scenario.lab, from: "y/c", to: "x/a")
        #expect(denied.observed == "deny" && denied.model == "deny" && denied.code == 0)
        let inside = try KeycardCLI.probeOne(scenario.lab, from: "x/b", to: "x/a")
        #expect(inside.observed == "allow" && inside.model == "allow")
        let delete = try KeycardCLI.run(["delete", scenario.lab, "-f", policy])
        try #require(delete.code == 0, "\(delete.err)")
        #expect(try KeycardCLI.probeOne(scenario.lab, from: "y/c", to: "x/a").observed == "allow")
    }
}
