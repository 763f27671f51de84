import Foundation
import KeycardTestSupport
import Testing

/// `keycard check -` and `keycard model -` read standard input, as `kubectl apply -f -` does;
/// messages name it `STDIN`, as kubectl's do ("error parsing STDIN: ...").
@Suite struct StandardInputTests {
    private static let manifests = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}

        """

    @Test func checkAndModelReadManifestsFromStandardInput() throws {
        let check = try KeycardBinary.run(["check", "-"], input: Data(Self.manifests.utf8))
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("STDIN: ok"), "\(check.stdout)")
        let model = try KeycardBinary.run(["model", "-"], input: Data(Self.manifests.utf8))
        #expect(model.status == 0, "\(model.stderr)")
        #expect(model.stdout.contains("shop/web"), "\(model.stdout)")
    }

    @Test func errorsNameStandardInputWithTheirLine() throws {
        let bad = try KeycardBinary.run(["check", "-"], input: Data((Self.manifests + "--- !!map\n").utf8))
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("STDIN:9:1: "), "\(bad.stderr)")
        let twice = try KeycardBinary.run(["model", "-", "-"], input: Data())
        #expect(twice.status == 2 && twice.stderr.contains("standard input cannot be used for multiple arguments"), "\(twice.stderr)")
    }

    /// Standard input that cannot be read (a folder, `< /tmp`; a descriptor not open for reading)
    /// is refused with read(2)'s reason and exit code 2 by every verb that reads `-` (Foundation's
    /// `readDataToEndOfFile` had trapped: SIGILL, exit 132).
    @Test func unreadableStandardInputIsRefused() throws {
        let folder = try #require(FileHandle(forReadingAtPath: NSTemporaryDirectory()))
        let writeOnly = try #require(FileHandle(forWritingAtPath: "/dev/null"))
        for arguments in [["check", "-"], ["model", "-"], ["lint", "-"]] {
            let directory = try KeycardBinary.run(arguments, inputHandle: folder)
            #expect(directory.status == 2 && directory.stderr == "STDIN: read: is a directory\n", "\(arguments) \(directory)")
            let closed = try KeycardBinary.run(arguments, inputHandle: writeOnly)
            #expect(closed.status == 2 && closed.stderr == "STDIN: read: bad file descriptor\n", "\(arguments) \(closed)")
        }
    }

    /// Lint's findings point into standard input's own bytes (they had pointed at 1:1, or into a
    /// file named `STDIN` in the working folder), as from a file.
    @Test func lintFindingsPointIntoStandardInput() throws {
        let text =
            Self.manifests + """
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: x, namespace: shop}
                spec:
                  podSelector:
                    matchLabels: {app: nothing}

                """
        let lint = try KeycardBinary.run(["lint", "-", "--fail-on", "none"], input: Data(text.utf8))
        #expect(lint.status == 0, "\(lint.stderr)")
        #expect(lint.stdout.contains("STDIN:15:5: warning: [policy-selects-nothing]"), "\(lint.stdout)")
    }

    /// A scenario file read from standard input names its manifests relative to the working folder.
    @Test func aScenarioFromStandardInput() throws {
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: stdin-scenario}
            spec:
              resources:
                - apiVersion: v1
                  kind: Namespace
                  metadata: {name: shop}
              steps: []

            """
        let check = try KeycardBinary.run(["check", "-"], input: Data(scenario.utf8))
        #expect(check.status == 0 && check.stdout.hasPrefix("STDIN: ok"), "\(check.stdout) \(check.stderr)")
    }
}
