import Foundation
import KeycardTestSupport
import Testing

/// A lab name is a path component under /run/keycard: every verb that takes one refuses an invalid
/// name (exit 2, "lab name ...") before it creates or reads anything there, with the rule `up` and
/// `run` apply to a scenario's `metadata.name`. And `apply` refuses an input that holds no object,
/// as `kubectl apply -f` does ("no objects passed to apply"), while `delete` says "No resources
/// found" and exits 0, as `kubectl delete -f` does: either leaves the lab as it was.
/// As root.
@Suite("CLI: lab names and empty live input", .serialized)
struct CliLabNameTests {
    /// Every verb taking a lab name, with the arguments it needs besides the name.
    private static func invocations(_ lab: String, manifest: String) -> [[String]] {
        [
            ["apply", lab, "-f", manifest], ["delete", lab, "-f", manifest], ["label", lab, "pod", "a/b", "x=y"],
            ["probe", lab, "--from", "a/b", "--to", "a/c"], ["scan", lab, "--from", "a/b", "--ports", "80"], ["status", lab],
            ["down", lab], ["observe", lab],
        ]
    }

    @Test func everyVerbRefusesAnInvalidLabNameBeforeTouchingTheFileSystem() throws {
        let decoy = "keycard-fx2-decoy-\(UUID().uuidString)"
        let decoyPath = "/tmp/\(decoy)"
        try FileManager.default.createDirectory(atPath: decoyPath, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: decoyPath) }
        let manifest = decoyPath + "/np.yaml"
        try "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n".write(
            toFile: manifest, atomically: true, encoding: .utf8)
        let rootLockExisted = FileManager.default.fileExists(atPath: "/run/keycard/live.lock")
        // Empty; climbing out of /run/keycard to the decoy; upper case; a slash; 25 characters.
        for name in ["", "../../tmp/\(decoy)", "Fx2", "fx2/x", String(repeating: "f", count: 25)] {
            for arguments in Self.invocations(name, manifest: manifest) {
                let result = try KeycardCLI.run(arguments)
                #expect(result.code == 2, "\(arguments): exit \(result.code) \(result.out)\(result.err)")
                #expect(result.err.contains("lab name \"\(name)\""), "\(arguments): \(result.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: decoyPath + "/live.lock"), "a verb created a file outside /run/keycard")
        if !rootLockExisted {
            #expect(!FileManager.default.fileExists(atPath: "/run/keycard/live.lock"), "an empty lab name created /run/keycard/live.lock")
        }
        // keycard down/status list only folders named like labs: a stray file is no lab.
        let status = try KeycardCLI.run(["status"])
        #expect(!status.out.contains("lab live.lock"), "\(status.out)")
    }

    @Test func applyAndDeleteRefuseAnInputWithoutObjects() throws {
        let scenario = try CliScenario(stem: "fx2-empty", pods: [("shop", "web")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.out)\(up.err)")
        let changes = try KeycardCLI.status(scenario.lab)["liveChanges"] as? Int
        let emptyFile = try scenario.write("empty.yaml", "")
        let commentsOnly = try scenario.write("comments.yaml", "# nothing here\n---\n# nor here\n")
        let emptyList = try scenario.write("list.yaml", "apiVersion: v1\nkind: List\nitems: []\n")
        for verb in ["apply", "delete"] {
            var inputs: [(String, [String], String?)] = [
                ("empty stdin", ["-f", "-"], ""), ("comments on stdin", ["-f", "-"], "# a comment\n"),
                ("a lone document marker", ["-f", "-"], "---\n"),
            ]
            inputs += [
                (emptyFile, ["-f", emptyFile], nil), (commentsOnly, ["-f", commentsOnly], nil), (emptyList, ["-f", emptyList], nil),
            ]
            for (what, arguments, stdin) in inputs {
                let result = try KeycardCLI.run([verb, scenario.lab] + arguments, stdin: stdin)
                if verb == "delete" {
                    #expect(result.code == 0, "\(verb) \(what): exit \(result.code) \(result.out)\(result.err)")
                    #expect(result.out.contains("No resources found"), "\(verb) \(what): \(result.out)")
                    continue
                }
                #expect(result.code == 2, "\(verb) \(what): exit \(result.code) \(result.out)\(result.err)")
                #expect(result.err.contains("no objects passed to \(verb)"), "\(verb) \(what): \(result.err)")
            }
        }
        #expect(try KeycardCLI.status(scenario.lab)["liveChanges"] as? Int == changes, "an empty input was journaled")
        // One object is enough: a policy applies as before.
        let apply = try KeycardCLI.run(["apply", scenario.lab, "-f", "-"], stdin: CliScenario.denyIngress("shop", podLabel: "web"))
        #expect(apply.code == 0, "\(apply.out)\(apply.err)")
    }
}
