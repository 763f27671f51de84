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

    /// With its lab process gone, a probe of a port the lab process never served (nothing
    /// listens there, whoever runs) is not refused: it runs and agrees with the model.
    @Test func aProbeOfAPortTheLabProcessNeverServedRunsWithoutIt() throws {
        let scenario = try CliScenario(stem: "cli-nsp", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let server = pid_t(try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int))
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
