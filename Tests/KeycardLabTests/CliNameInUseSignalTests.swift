import Foundation
import Glibc
import KeycardLab
import Testing

/// A second `up` or `run` of a lab name that a live lab holds is refused (exit 2); a SIGINT that
/// comes as it is refused must not tear the live lab down (`up` removed it: it tore down by name
/// whatever held the name). As root.
@Suite(.serialized) struct CliNameInUseSignalTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    /// Whether `pid` catches SIGINT now (its trap is installed): bit SIGINT-1 of SigCgt.
    static func catchesSigint(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
            let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(SIGINT - 1)) != 0
    }

    /// Starts `keycard VERB FILE` while the lab of FILE is live, stops it (SIGSTOP) once its
    /// signal trap is set, sends SIGINT and continues it: the signal is recorded before it asks
    /// for the name. Returns the verb, ended; nil when every try ended before it could be stopped.
    static func interruptedAsItIsRefused(_ verb: String, _ scenario: CliScenario) throws -> CliLiveLifecycleTests.Background? {
        for attempt in 0..<5 {
            let second = try CliLiveLifecycleTests.Background([verb, scenario.file], folder: scenario.folder, name: "\(verb)\(attempt)")
            while second.process.isRunning && !catchesSigint(second.pid) { usleep(200) }
            guard second.process.isRunning else { continue }
            kill(second.pid, SIGSTOP)
            guard second.process.isRunning else { continue }
            kill(second.pid, SIGINT)
            kill(second.pid, SIGCONT)
            try #require(second.wait(seconds: 60), "keycard \(verb) did not end")
            return second
        }
        return nil
    }

    @Test(arguments: ["up", "run"])
    func aSigintAsTheNameIsRefusedLeavesTheLiveLab(_ verb: String) throws {
        let scenario = try CliScenario(stem: "cli-niu", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let before = Lab.namespaces(of: scenario.lab)
        try #require(!before.isEmpty)

        let second = try #require(try Self.interruptedAsItIsRefused(verb, scenario), "every \(verb) ended before it could be stopped")
        #expect(second.process.terminationStatus == 2, "\(second.stderr)")
        #expect(second.stderr.contains("is already in use"), "\(second.stderr)")
        #expect(!second.stderr.contains("torn down") && !second.stderr.contains("tearing down"), "\(second.stderr)")
        #expect(Lab.namespaces(of: scenario.lab) == before, "the live lab lost namespaces")
        #expect(try KeycardCLI.probeOne(scenario.lab, from: "x/b", to: "x/a").observed == "allow")
    }
}
