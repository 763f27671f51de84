import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import Testing

/// The live verbs through the lab process (`keycard serve` on /run/keycard/<lab>/control.sock),
/// without it (the verb makes the change itself), and across a restart of the lab process.
@Suite(.serialized) struct CliLiveProcessTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    @Test func changesGoThroughTheLabProcessFallBackWithoutItAndReplayAfterARestart() throws {
        let scenario = try CliScenario(stem: "cli-ctl", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let lab = scenario.lab
        let socket = LabPaths.controlSocket(lab)
        var info = stat()
        try #require(stat(socket, &info) == 0, "no \(socket)")
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_uid == 0)

        // Through the lab process: it logs each change it makes.
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        let apply = try KeycardCLI.run(["apply", lab, "-f", "deny.yaml"], in: scenario.folder)
        #expect(apply.code == 0, "\(apply.err)")
        #expect(apply.out.contains("NetworkPolicy x/deny-in created"))
        #expect(apply.out.contains("lab \(lab): 1 namespace reprogrammed"))
        #expect(try serverLog(lab).contains("lab \(lab): apply deny.yaml: lab \(lab): 1 namespace reprogrammed"))
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")

        // An invalid file is refused by the lab process: file:line:col as typed, exit 2, nothing applied.
        _ = try scenario.write(
            "bad.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: nope}\nspec: {podSelector: {}}\n")
        let refused = try KeycardCLI.run(["apply", lab, "-f", "bad.yaml"], in: scenario.folder)
        #expect(refused.code == 2)
        #expect(refused.err.hasPrefix("bad.yaml:"), "\(refused.err)")
        #expect(refused.out.isEmpty)
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")

        // Without the lab process the verb makes the change itself, and the journal records it.
        let first = try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int)
        kill(Int32(first), SIGTERM)
        _ = waitUntil { ProcessTable.hasExited(Int32(first)) }
        try #require(ProcessTable.hasExited(Int32(first)))
        let label = try KeycardCLI.run(["label", lab, "pod", "x/a", "pod=other"])
        #expect(label.code == 0, "\(label.err)")
        #expect(label.out.contains("pod x/a labeled"))
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 2)
        #expect(!(try serverLog(lab).contains("label x/a")))

        // A new lab process replays the journal (the policy, then the label) and serves changes again.
        let serve = try startLabProcess(lab)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")
        let back = try KeycardCLI.run(["label", lab, "pod", "x/a", "pod=a"])
        #expect(back.code == 0, "\(back.err)")
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
        #expect(try KeycardCLI.run(["delete", lab, "-f", policy]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 4)

        // down removes the lab process and its socket with the lab's folder.
        #expect(try KeycardCLI.run(["down", lab]).code == 0)
        _ = waitUntil { !serve.isRunning }
        #expect(!serve.isRunning)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(lab)))
    }

    /// A change handed to the lab process while another change holds the lab's lock (a verb
    /// making one itself, here this test holding the lock as it does) waits for it: the lab
    /// process, started meanwhile, does not load the lab under that change nor make its own beside
    /// it, and answers once the lock is let go.
    @Test func theLabProcessMakesAHandedChangeOnlyOnceTheChangeHoldingTheLockEnds() throws {
        let scenario = try CliScenario(stem: "cli-ctl-lock", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let lab = scenario.lab
        let first = try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int)
        kill(Int32(first), SIGTERM)
        _ = waitUntil { ProcessTable.hasExited(Int32(first)) }

        let lock = open("\(LabPaths.directory(lab))/live.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(lock >= 0 && flock(lock, LOCK_EX) == 0)
        var held = true
        defer { if held { close(lock) } }
        let serve = try startLabProcess(lab)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        let connection = try #require(try ControlSocket.connect(to: LabPaths.controlSocket(lab)))
        let request = #"{"kind":"label","directory":"/","objectKind":"pod","name":"x/a","labels":{"pod":"a","tier":"web"}}"#
        try ControlSocket.send(Data(request.utf8), on: connection)
        let early = Date().addingTimeInterval(1.5)
        #expect(throws: KernelError.self, "the lab process answered while another change held the lock") {
            try ControlSocket.receive(on: connection) { Date() > early }
        }
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 0)
        close(lock)
        held = false
        let deadline = Date().addingTimeInterval(20)
        let reply = try #require(try ControlSocket.receive(on: connection) { Date() > deadline }, "no reply")
        let document = try #require(try JSONSerialization.jsonObject(with: reply) as? [String: Any])
        #expect(document["failed"] as? Bool == false, "\(document)")
        #expect((document["out"] as? [String])?.first == "pod x/a labeled")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1)
    }

    /// The lab process started by hand (Foundation's Process, output discarded) is the lab's
    /// server once its state names it, and listens once its socket is there.
    private func isServing(_ process: Process) throws -> Bool {
        let lab = process.arguments?.last ?? ""
        guard let state = try LabState.read(lab), state.server?.pid == process.processIdentifier else { return false }
        return FileManager.default.fileExists(atPath: LabPaths.controlSocket(lab))
    }

    /// Polls `condition` every 10 ms for up to 5 s; whether it held.
    private func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    private func serverLog(_ lab: String) throws -> String {
        try String(contentsOfFile: LiveLabServer.logPath(lab), encoding: .utf8)
    }

    /// Starts `keycard serve LAB` as a new lab process and waits until it listens.
    private func startLabProcess(_ lab: String) throws -> Process {
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        serve.arguments = ["serve", lab]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        let started = waitUntil { (try? isServing(serve)) ?? false }
        if !started { kill(serve.processIdentifier, SIGKILL) }
        try #require(started, "the lab process did not start")
        return serve
    }
}
