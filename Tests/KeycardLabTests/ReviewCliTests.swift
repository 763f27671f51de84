import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// `keycard lint` and `keycard diff` through the built binary: exit codes, formats, and the
/// diff's proof with packets (root, two labs, each torn down).
@Suite(.serialized) struct ReviewCliTests {
    static let blueprint = RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml")

    init() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: KeycardCLI.binary),
            "keycard is not built at \(KeycardCLI.binary): swift build --build-tests builds it")
    }

    @Test func lintExitsOneOnErrorsAndHonoursFailOn() throws {
        let table = try KeycardCLI.run(["lint", Self.blueprint])
        #expect(table.code == 1, "\(table.err)")
        #expect(table.out.contains("error: [one-sided-allow]"))
        #expect(table.out.contains("error: [egress-blocks-dns] production/frontend-web"))
        let none = try KeycardCLI.run(["lint", Self.blueprint, "--fail-on", "none", "-o", "sarif"])
        #expect(none.code == 0)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(none.out.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let bad = try KeycardCLI.run(["lint", "/nonexistent.yaml"])
        #expect(bad.code == 2)
        // Invalid input with SARIF asked for: still exit 2 and the message on stderr, and a log on
        // stdout that says the lint did not run.
        let invalid = NSTemporaryDirectory() + "keycard-lint-invalid-\(getpid()).yaml"
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: \"p q\"}\nspec: {containers: [{name: c, image: i}]}\n".write(
            toFile: invalid, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: invalid) }
        let badSarif = try KeycardCLI.run(["lint", invalid, "-o", "sarif"])
        #expect(badSarif.code == 2 && badSarif.err.contains("\(invalid):3:"), "\(badSarif.err)")
        let failed = try #require(try JSONSerialization.jsonObject(with: Data(badSarif.out.utf8)) as? [String: Any], "\(badSarif.out)")
        let invocation = try #require(((failed["runs"] as? [[String: Any]])?.first?["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        // The notification is the error printed on stderr: its message and its place.
        let notification = try #require((invocation["toolExecutionNotifications"] as? [[String: Any]])?.first)
        let text = try #require((notification["message"] as? [String: Any])?["text"] as? String)
        #expect(badSarif.err.contains(text), "\(text)")
        let region = ((notification["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"]
        #expect((region as? [String: Any])?["startLine"] as? Int == 3)
    }

    @Test func diffFailsOnAddedAndWritesCSV() throws {
        let result = try KeycardCLI.run(["diff", "\(Self.blueprint)@6", "\(Self.blueprint)@8", "-o", "csv", "--fail-on", "added"])
        #expect(result.code == 1, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "diff-type,source,destination,dir1,dir2,workloads-diff-info")
        #expect(lines.contains("added,production/frontend-web[Pod],production/backend-api[Pod],No Connections,TCP 8080,"))
        #expect(lines.count == 5)
        let removedOnly = try KeycardCLI.run(["diff", "\(Self.blueprint)@6", "\(Self.blueprint)@8", "--fail-on", "removed"])
        #expect(removedOnly.code == 0)
        let same = try KeycardCLI.run(["diff", Self.blueprint, Self.blueprint, "--fail-on", "added"])
        // np-guard's CLI prints nothing for an empty diff.
        #expect(same.code == 0 && same.out.isEmpty, "\(same.out)")
        // Its JSON is the empty list docs/review.md shows, `[]` (was `[`, a blank line, `]`).
        let sameJSON = try KeycardCLI.run(["diff", Self.blueprint, Self.blueprint, "-o", "json"])
        #expect(sameJSON.code == 0 && sameJSON.out == "[]\n", "\(sameJSON.out.debugDescription)")
    }

    /// Each changed cell is sent as packets on both sides: denied before the fix, allowed after.
    @Test func diffProveConfirmsEveryChangedCell() throws {
        try #require(geteuid() == 0, "--prove builds labs: root")
        let result = try KeycardCLI.run(["diff", "\(Self.blueprint)@6", "\(Self.blueprint)@8", "--prove"])
        #expect(result.code == 0, "\(result.out)\n\(result.err)")
        // 4 rows: frontend -> API TCP/8080, and three pods' DNS (TCP/53 by packets, UDP/53 served
        // by dnsmasq, judged by the model).
        #expect(result.err.contains("proof OLD"), "\(result.err)")
        #expect(result.err.contains("7 changed cells, 4 confirmed by packets, 3 judged by the model only"), "\(result.err)")
        #expect(!result.err.contains("wrong"))
        #expect(
            result.err.contains(
                "confirmed: production/frontend-web -> production/backend-api TCP/8080: expected deny, model deny, observed deny"))
        #expect(
            result.err.contains(
                "confirmed: production/frontend-web -> production/backend-api TCP/8080: expected allow, model allow, observed allow"))
        // Its proof labs (`<scenario>-old<pid>`, `-new<pid>`) are gone; another test run's may not be.
        let status = try KeycardCLI.run(["status"]).out
        #expect(!status.contains("-old\(result.pid)") && !status.contains("-new\(result.pid)"), "\(status)")
    }
}
