import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import KeycardTestSupport
import Testing

/// Live changes racing with readers and `down`, an edited input file, and a dead lab process's
/// ports: what every verb must agree on. As root, each test with its own lab torn down at the end.
@Suite(.serialized) struct CliLiveChangeRaceTests {
    typealias Background = CliLiveLifecycleTests.Background

    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    /// Enough pods that programming a policy selecting all of them takes a while (a table and a
    /// conntrack flush in each pod's namespace), so the change is caught under way.
    static let pods = (0..<24).map { ("x", "p\($0)") }

    /// Whether the lab's change marker appears within 60 s (the change is under way).
    static func changeUnderWay(_ lab: String) -> Bool {
        CliLiveLifecycleTests.waitUntil(seconds: 60) { FileManager.default.fileExists(atPath: LiveChangeMarker.path(lab)) }
    }

    /// Brings `scenario`'s lab up; the pid of its lab process.
    static func up(_ scenario: CliScenario) throws -> pid_t {
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        return pid_t(try #require((try KeycardCLI.status(scenario.lab)["server"] as? [String: Any])?["pid"] as? Int))
    }

    /// The verb that handed its change to the lab process is killed while the lab process makes
    /// it (stopped there with SIGSTOP): a probe then waits for the change and judges the kernel
    /// with the cluster the change made, every cell agreeing with the model.
    @Test func aProbeAfterTheApplyingVerbIsKilledWaitsForTheChangeAndAgrees() throws {
        let scenario = try CliScenario(stem: "cli-kva", pods: Self.pods)
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let server = try Self.up(scenario)
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: nil))

        let verb = try Background(["apply", lab, "-f", policy], folder: scenario.folder, name: "apply")
        defer { verb.kill(SIGKILL) }
        try #require(Self.changeUnderWay(lab), "the change never got under way: \(verb.stderr)")
        try #require(kill(server, SIGSTOP) == 0)
        defer { kill(server, SIGCONT) }
        verb.kill(SIGKILL)
        try #require(verb.wait(seconds: 20))

        // On a loaded machine the change may have ended between the marker and the SIGSTOP: then
        // there is nothing to wait for, and the probe's verdicts below are the whole check.
        let caught = FileManager.default.fileExists(atPath: LiveChangeMarker.path(lab))
        let probe = try Background(
            ["probe", lab, "--from", "x/p0", "--ports", "TCP/80", "-o", "json"], folder: scenario.folder, name: "probe")
        defer { probe.kill(SIGKILL) }
        if caught { #expect(!probe.wait(seconds: 1.5), "the probe ran while the change was half made: \(probe.stderr)") }
        kill(server, SIGCONT)
        try #require(probe.wait(seconds: 120), "the probe never ended")
        #expect(probe.process.terminationStatus == 0, "\(probe.stdout) \(probe.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any], "\(probe.stderr)")
        #expect(document["agrees"] as? Bool == true)
        let results = try #require(document["results"] as? [[String: Any]]).filter { $0["to"] as? String != "x/p0" }
        #expect(results.count == Self.pods.count - 1)
        #expect(results.allSatisfy { $0["observed"] as? String == "deny" }, "the probe judged before the change was made")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1)
    }

    /// `down` while a verb makes a change itself (no lab process; the verb stopped with SIGSTOP
    /// mid-change): `down` waits for the change, then removes everything; the change, finished
    /// first, brings nothing back.
    @Test func downWaitsForAChangeInProgressAndNothingComesBack() throws {
        let scenario = try CliScenario(stem: "cli-dwc", pods: Self.pods)
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let server = try Self.up(scenario)
        kill(server, SIGKILL)
        try #require(CliLiveLifecycleTests.waitUntil { ProcessTable.hasExited(server) })
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: nil))

        let verb = try Background(["apply", lab, "-f", policy], folder: scenario.folder, name: "apply")
        defer { verb.kill(SIGKILL) }
        try #require(Self.changeUnderWay(lab), "the change never got under way: \(verb.stderr)")
        try #require(kill(verb.pid, SIGSTOP) == 0)
        defer { kill(verb.pid, SIGCONT) }
        // As above: a change that ended before the SIGSTOP leaves nothing for down to wait for.
        let caught = FileManager.default.fileExists(atPath: LiveChangeMarker.path(lab))
        let down = try Background(["down", lab], folder: scenario.folder, name: "down")
        defer { down.kill(SIGKILL) }
        if caught { #expect(!down.wait(seconds: 1.5), "down removed the lab under a change in progress: \(down.stdout)") }
        kill(verb.pid, SIGCONT)
        #expect(verb.wait(seconds: 120))
        #expect(verb.process.terminationStatus == 0, "\(verb.stderr)")
        #expect(down.wait(seconds: 120))
        #expect(down.process.terminationStatus == 0, "\(down.stderr)")
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(lab)), "the change brought the lab's folder back")
        #expect(Lab.namespaces(of: lab).isEmpty)
    }

    /// An input file edited after `up` (even a comment appended): every verb refuses the lab, the
    /// lab process's changes as the verbs' own, and `status` says so while it still marks a pod
    /// deleted live as not in the cluster now.
    @Test func anEditedInputIsRefusedByEveryVerbAndStatusWarns() throws {
        let scenario = try CliScenario(stem: "cli-edi", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let pod = try scenario.write("pod-b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\n")
        let deleted = try KeycardCLI.run(["delete", lab, "-f", pod])
        try #require(deleted.code == 0, "\(deleted.err)")
        let edited = try String(contentsOfFile: scenario.file, encoding: .utf8) + "\n# edited\n"
        try edited.write(toFile: scenario.file, atomically: true, encoding: .utf8)
        let refusal = "its input changed since the lab came up"
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))

        let served = try KeycardCLI.run(["apply", lab, "-f", policy])
        #expect(served.code == 2 && served.err.contains(refusal), "lab process: \(served.code) \(served.err)")
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/a", "--to", "x/a"])
        #expect(probe.code == 2 && probe.err.contains(refusal), "\(probe.code) \(probe.err)")

        let status = try KeycardCLI.status(lab)
        #expect((status["liveProblem"] as? String)?.contains(refusal) == true, "\(status)")
        let pods = try #require(status["pods"] as? [[String: Any]])
        #expect(pods.first { $0["name"] as? String == "b" }?["inCluster"] as? Bool == false)
        #expect(pods.first { $0["name"] as? String == "a" }?["inCluster"] as? Bool == true)
        let text = try KeycardCLI.run(["status", lab])
        #expect(text.out.contains("warning: the live verbs refuse it") && text.out.contains(refusal), "\(text.out)")
        #expect(text.out.contains("x/b (not in the cluster now)"), "\(text.out)")

        // Without a lab process the verb reloads the lab itself: the same refusal.
        let server = pid_t(try #require((status["server"] as? [String: Any])?["pid"] as? Int))
        kill(server, SIGKILL)
        try #require(CliLiveLifecycleTests.waitUntil { ProcessTable.hasExited(server) })
        let itself = try KeycardCLI.run(["apply", lab, "-f", policy])
        #expect(itself.code == 2 && itself.err.contains(refusal), "verb: \(itself.code) \(itself.err)")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1, "only the delete made before the edit")
    }

    /// With its lab process gone, a probe of a port the lab process never served (nothing
    /// listens there, whoever runs) is not refused: it runs and agrees with the model.
    @Test func aProbeOfAPortTheLabProcessNeverServedRunsWithoutIt() throws {
        let scenario = try CliScenario(stem: "cli-nsp", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let server = try Self.up(scenario)
        kill(server, SIGKILL)
        try #require(CliLiveLifecycleTests.waitUntil { ProcessTable.hasExited(server) })

        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/b", "--to", "x/a", "--ports", "TCP/9999"])
        #expect(probe.code == 0, "\(probe.code) \(probe.out) \(probe.err)")
        #expect(!probe.err.contains("is not running"), "\(probe.err)")
        // Toward a port it served, the probe is still refused.
        let served = try KeycardCLI.run(["probe", lab, "--from", "x/b", "--to", "x/a", "--ports", "TCP/80"])
        #expect(served.code == 2 && served.err.contains("is not running"), "\(served.code) \(served.err)")
    }
}
