import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import Testing

/// The live lab's lifecycle around its verbs: readers (`probe`, `scan`) never run during a change,
/// a dead lab process is said rather than reported as policy failures, an interrupted change is
/// never taken for the record, `down` stops the lab's observers, and a lab left by a killed `run`
/// is shown incomplete.
@Suite(.serialized) struct CliLiveLifecycleTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    /// `keycard ARGUMENTS...` started in the background, stdout and stderr to files in `folder`.
    final class Background {
        let process = Process()
        let out: String
        let err: String

        /// `executable`: keycard itself, or a link to it under another name.
        init(_ arguments: [String], folder: String, name: String, executable: String = KeycardCLI.binary) throws {
            out = "\(folder)/\(name).out"
            err = "\(folder)/\(name).err"
            FileManager.default.createFile(atPath: out, contents: nil)
            FileManager.default.createFile(atPath: err, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: out)
            process.standardError = FileHandle(forWritingAtPath: err)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var pid: pid_t { process.processIdentifier }
        var stdout: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

        /// Waits up to `seconds` for the process to end; whether it has.
        func wait(seconds: Double) -> Bool {
            waitUntil(seconds: seconds) { !process.isRunning }
        }

        func kill(_ signal: Int32 = SIGKILL) {
            if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        }
    }

    /// Polls `condition` every 2 ms for up to `seconds`; whether it held.
    static func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        // The monotonic clock: a step of the wall clock (NTP on a fresh machine) cuts no wait short.
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    /// A probe waits while a change holds the lab's lock (exclusive) and runs beside another reader
    /// (shared): it never reads the record before a change and sends its packets during it.
    @Test func probeAndScanWaitForAChangeAndRunBesideReaders() throws {
        let scenario = try CliScenario(stem: "cli-lk", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)

        let lock = open("\(LabPaths.directory(lab))/live.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(lock >= 0)
        defer { close(lock) }
        for verb in [["probe", lab, "--from", "x/b", "--to", "x/a"], ["scan", lab, "--from", "x/b", "--ports", "80"]] {
            // A change in progress (exclusive): the reader waits for it.
            try #require(flock(lock, LOCK_EX) == 0)
            let reader = try Background(verb, folder: scenario.folder, name: verb[0])
            defer { reader.kill() }
            #expect(!reader.wait(seconds: 1.5), "\(verb[0]) ran during a change: \(reader.stderr)")
            try #require(flock(lock, LOCK_UN) == 0)
            #expect(reader.wait(seconds: 20))
            #expect(reader.process.terminationStatus == 0, "\(reader.stderr)")

            // Another reader (shared): they run together.
            try #require(flock(lock, LOCK_SH) == 0)
            let beside = try Background(verb, folder: scenario.folder, name: verb[0] + "-beside")
            defer { beside.kill() }
            #expect(beside.wait(seconds: 20), "\(verb[0]) waited for another reader")
            #expect(beside.process.terminationStatus == 0, "\(beside.stderr)")
            try #require(flock(lock, LOCK_UN) == 0)
        }
    }

    /// With its lab process gone the pods' ports are closed: `probe` and `scan` refuse (exit 2,
    /// saying so) rather than report every allowed connection as a policy failure, and `down` does
    /// not claim to have removed the process.
    @Test func aDeadLabProcessIsRefusedNotReportedAsPolicyFailures() throws {
        let scenario = try CliScenario(stem: "cli-dead", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let server = try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int)
        kill(pid_t(server), SIGKILL)
        try #require(Self.waitUntil { ProcessTable.hasExited(pid_t(server)) })

        let expected = "lab \(lab): its lab process \(server) is not running (it serves the pods' ports); keycard down \(lab) and up again"
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/b", "--to", "x/a"])
        #expect(probe.code == 2 && probe.err.contains(expected), "\(probe.code) \(probe.err)")
        let scan = try KeycardCLI.run(["scan", lab, "--from", "x/b", "--ports", "80"])
        #expect(scan.code == 2 && scan.err.contains(expected), "\(scan.code) \(scan.err)")
        // A change needs no lab process: the verb makes it itself.
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        #expect(try KeycardCLI.run(["apply", lab, "-f", policy]).code == 0)

        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(down.out.contains("lab \(lab) removed: ") && !down.out.contains("lab process"), "\(down.out)")
    }

    /// `down` names the lab process it stopped.
    @Test func downNamesTheLabProcessItStopped() throws {
        let scenario = try CliScenario(stem: "cli-live", pods: [("x", "a")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let server = try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int)
        let down = try KeycardCLI.run(["down", lab])
        #expect(down.out.contains("and lab process \(server)"), "\(down.out)")
    }

    /// A lab without its lab process, the change made by the verb itself, big enough that
    /// programming it takes a while; the policy file that changes every namespace.
    static func bigLab(_ stem: String) throws -> (CliScenario, String) {
        let pods = (0..<40).map { ("x\($0 % 4)", "p\($0)") }
        let scenario = try CliScenario(stem: stem, nodes: 2, pods: pods)
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let server = try #require((try KeycardCLI.status(scenario.lab)["server"] as? [String: Any])?["pid"] as? Int)
        kill(pid_t(server), SIGKILL)
        try #require(waitUntil { ProcessTable.hasExited(pid_t(server)) })
        let policy = try scenario.write(
            "deny.yaml", (0..<4).map { CliScenario.denyIngress("x\($0)", podLabel: nil) }.joined(separator: "---\n"))
        return (scenario, policy)
    }

    /// Starts `keycard apply LAB -f POLICY` and sends `signal` the moment its change is under way
    /// (the marker is written right before the kernel is touched). Returns the verb, ended.
    static func signalMidChange(_ scenario: CliScenario, _ policy: String, _ signal: Int32) throws -> Background {
        let marker = LiveChangeMarker.path(scenario.lab)
        let verb = try Background(["apply", scenario.lab, "-f", policy], folder: scenario.folder, name: "apply-\(signal)")
        var seen = false
        for _ in 0..<200_000 where verb.process.isRunning {
            if FileManager.default.fileExists(atPath: marker) {
                seen = true
                break
            }
            usleep(100)
        }
        verb.kill(signal)
        verb.process.waitUntilExit()
        try #require(seen, "the change never marked itself under way: \(verb.stderr)")
        return verb
    }

    /// A new lab process for `scenario`'s lab (`keycard serve LAB`), once it serves the ports.
    static func startLabProcess(_ scenario: CliScenario) throws -> Background {
        let serve = try Background(["serve", scenario.lab], folder: scenario.folder, name: "serve")
        let ready = waitUntil(seconds: 20) {
            (try? LabState.read(scenario.lab))?.server?.pid == serve.pid
                && FileManager.default.fileExists(atPath: LabPaths.controlSocket(scenario.lab))
        }
        if !ready { serve.kill() }
        try #require(ready, "the lab process did not start: \(serve.stderr)")
        return serve
    }

    /// SIGTERM while the verb reprograms the lab: it finishes the change, commits the record,
    /// then exits 143; nothing is left half-made.
    @Test func aSignalledChangeFinishesAndCommitsFirst() throws {
        let (scenario, policy) = try Self.bigLab("cli-sig")
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let verb = try Self.signalMidChange(scenario, policy, SIGTERM)
        #expect(verb.process.terminationReason == .exit && verb.process.terminationStatus == 128 + SIGTERM, "\(verb.stderr)")
        #expect(verb.stderr.contains("interrupted (signal \(SIGTERM)) after the change was made and recorded"), "\(verb.stderr)")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1)
        #expect(LiveChangeMarker.read(lab) == nil)
        let serve = try Self.startLabProcess(scenario)
        defer { serve.kill() }
        #expect(try KeycardCLI.probeOne(lab, from: "x1/p1", to: "x0/p0").observed == "deny")
    }

    /// `kill -9` while the verb reprograms the lab: the marker stays, the readers refuse (exit 2)
    /// and `status` warns, and the next change rewrites the lab from the record and clears it.
    @Test func aKilledChangeIsSaidUntilTheNextChange() throws {
        let (scenario, policy) = try Self.bigLab("cli-k9c")
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let verb = try Self.signalMidChange(scenario, policy, SIGKILL)
        #expect(verb.process.terminationReason == .uncaughtSignal)
        try #require(LiveChangeMarker.read(lab) != nil)
        #expect((try KeycardCLI.status(lab)["liveChanges"] as? Int ?? 0) == 0)

        let message = "a change to lab \(lab) was interrupted: apply it again or keycard down \(lab)"
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x1/p1", "--to", "x0/p0"])
        #expect(probe.code == 2 && probe.err.contains(message), "\(probe.code) \(probe.err)")
        let scan = try KeycardCLI.run(["scan", lab, "--from", "x1/p1", "--ports", "80"])
        #expect(scan.code == 2 && scan.err.contains(message), "\(scan.code) \(scan.err)")
        let observe = try KeycardCLI.run(["observe", lab])
        #expect(observe.code == 2 && observe.err.contains(message), "\(observe.code) \(observe.err)")
        #expect(try KeycardCLI.status(lab)["interruptedChange"] as? Bool == true)
        #expect(try KeycardCLI.run(["status", lab]).out.contains("warning: " + message))

        let again = try KeycardCLI.run(["apply", lab, "-f", policy])
        #expect(again.code == 0, "\(again.err)")
        #expect(LiveChangeMarker.read(lab) == nil)
        #expect(try KeycardCLI.status(lab)["interruptedChange"] == nil)
        let serve = try Self.startLabProcess(scenario)
        defer { serve.kill() }
        let all = try KeycardCLI.run(["probe", lab, "--from", "x1/p1,x2/p2", "-o", "json"])
        #expect(all.code == 0, "\(all.out.suffix(400)) \(all.err)")
    }

    /// `down` stops the lab's `keycard observe` (found by its command line, options before the
    /// lab name included), and not another lab's whose name starts the same; an observe whose
    /// lab's record disappears ends with exit 1.
    @Test func downStopsTheLabsObserversAndObserveNoticesItsLabGone() throws {
        let scenario = try CliScenario(stem: "cli-obd", pods: [("x", "a")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        // A second lab whose name is the first's with a 0 after it.
        let other = lab + "0"
        let otherFile = try scenario.write(
            "other.yaml",
            try String(contentsOfFile: scenario.file, encoding: .utf8).replacingOccurrences(of: "name: \(lab)\n", with: "name: \(other)\n"))
        defer { _ = try? KeycardCLI.run(["down", other]) }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        try #require(try KeycardCLI.run(["up", otherFile]).code == 0)

        let first = try Background(["observe", "-o", "compact", lab], folder: scenario.folder, name: "observe-first")
        defer { first.kill() }
        let second = try Background(["observe", "--verdict", "DROPPED", other], folder: scenario.folder, name: "observe-other")
        defer { second.kill() }
        for observe in [first, second] {
            try #require(Self.waitUntil(seconds: 20) { observe.stderr.contains("observing new flows") }, "\(observe.stderr)")
        }
        #expect(Lab.observers(of: lab) == [first.pid])

        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        // down has stopped it: only its reaping is waited for (bounded for a loaded machine).
        try #require(first.wait(seconds: 10), "observe of the removed lab still runs")
        #expect(first.process.terminationReason == .exit && first.process.terminationStatus == 0, "\(first.stderr)")
        #expect(second.process.isRunning, "observe of \(other) was stopped too: \(second.stderr)")

        // Its record gone (not by down): observe says so and ends with exit 1.
        try FileManager.default.removeItem(atPath: LiveLabRecord.path(other))
        try #require(second.wait(seconds: 20), "observe of a lab whose record is gone still runs")
        #expect(second.process.terminationReason == .exit && second.process.terminationStatus == 1)
        #expect(second.stderr.contains("lab \(other): its live record \(LiveLabRecord.path(other)) is gone"), "\(second.stderr)")
    }

    /// A lab left by `kill -9` of `keycard run` (no --keep) is shown incomplete, pointing to `keycard down`.
    @Test func aLabLeftByAKilledRunIsIncomplete() throws {
        let pods = (0..<24).map { ("x\($0 % 3)", "p\($0)") }
        let scenario = try CliScenario(stem: "cli-k9r", pods: pods)
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        let steps = (0..<6).map { "    - {name: p\($0), probe: {ports: [TCP/80]}}" }.joined(separator: "\n")
        try String(contentsOfFile: scenario.file, encoding: .utf8).replacingOccurrences(of: "  steps: []", with: "  steps:\n" + steps)
            .write(toFile: scenario.file, atomically: true, encoding: .utf8)
        let run = try Background(["run", scenario.file], folder: scenario.folder, name: "run")
        defer { run.kill() }
        try #require(Self.waitUntil(seconds: 60) { (try? LabState.read(lab))?.phase == .ready }, "\(run.stderr)")
        run.kill(SIGKILL)
        run.process.waitUntilExit()
        try #require(!Lab.namespaces(of: lab).isEmpty, "the run ended before it was killed")

        let status = try KeycardCLI.status(lab)
        #expect(status["complete"] as? Bool == false)
        let text = try KeycardCLI.run(["status", lab]).out
        #expect(text.contains("(incomplete)") && text.contains("keycard down \(lab) removes it"), "\(text)")
        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(Lab.namespaces(of: lab).isEmpty)
    }
}

private func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    CliLiveLifecycleTests.waitUntil(seconds: seconds, condition)
}

/// `Lab.observers` reads observe's command line past its options (no root: pure).
struct ObserveCommandLineTests {
    @Test func theLabIsObservesPositionalArgumentExactly() {
        #expect(Lab.isObserve(["observe", "rvd1"], of: "rvd1"))
        #expect(!Lab.isObserve(["observe", "rvd10"], of: "rvd1"))
        #expect(!Lab.isObserve(["observe", "rvd1"], of: "rvd10"))
        #expect(Lab.isObserve(["observe", "-o", "compact", "--verdict", "DROPPED", "-v", "rvd1"], of: "rvd1"))
        #expect(Lab.isObserve(["observe", "--namespace=x", "rvd1", "--pod", "x/a"], of: "rvd1"))
        // A value that is the lab's name is no lab argument.
        #expect(!Lab.isObserve(["observe", "--namespace", "rvd1", "other"], of: "rvd1"))
        #expect(Lab.isObserve(["observe", "--", "rvd1"], of: "rvd1"))
        // A group of short options whose last takes a value (`-vo json`): the lab comes after it.
        #expect(Lab.isObserve(["observe", "-vo", "json", "rvd1"], of: "rvd1"))
        #expect(!Lab.isObserve(["observe", "-vo", "rvd1", "other"], of: "rvd1"))
        #expect(Lab.isObserve(["observe", "-o=json", "rvd1"], of: "rvd1"))
        #expect(Lab.isObserve(["observe", "--output=compact", "-v", "rvd1"], of: "rvd1"))
        #expect(!Lab.isObserve(["serve", "rvd1"], of: "rvd1"))
        #expect(!Lab.isObserve(["probe", "rvd1"], of: "rvd1"))
    }
}
