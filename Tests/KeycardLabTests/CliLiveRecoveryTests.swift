import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import KeycardTestSupport
import Testing

/// A live lab recovering from what a killed or interrupted process leaves: the Service proxy
/// tables of a change that was never recorded, a verb interrupted while the lab process makes
/// its change, an observe that `down` must find whatever its command line, and a namespace
/// deleted by hand. As root; `nft` and `ip` are the independent witnesses.
@Suite(.serialized) struct CliLiveRecoveryTests {
    typealias Background = CliLiveLifecycleTests.Background

    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    /// The lab's first Service, a NodePort one: a ClusterIP table in every pod, a node-port table
    /// in the node.
    static let nodePortService = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: x}
        spec: {type: NodePort, selector: {pod: server}, ports: [{port: 8080, targetPort: 80, nodePort: 30080}]}

        """

    /// What `kill -9` of the process making `apply -f SERVICE` leaves once the proxy tables are
    /// programmed and before the record holds the change (`LiveLabRecord.commit`): the kernel has
    /// the Service's tables, the record not the Service, and the change's marker names a process
    /// that is gone. Made exactly, from the state after the change: the change's journal entry
    /// is taken out of the record and the marker written for a process that no longer runs
    /// (this process's pid with another start time: `LiveChangeMarker.writerIsAlive` is false).
    static func leaveUnrecorded(_ lab: String) throws {
        var record = try #require(try LiveLabRecord.read(lab))
        try #require(!record.journal.isEmpty)
        record.journal.removeLast()
        try record.write()
        try #"{"pid":\#(getpid()),"startTime":1}"#.write(toFile: LiveChangeMarker.path(lab), atomically: true, encoding: .utf8)
        try #require(LiveChangeMarker.interrupted(lab) != nil)
    }

    /// The lab's proxy tables (`kc-LAB-svc`, `kc-LAB-nodeport`) in the client's pod and the node.
    static func proxyTables(_ lab: String) throws -> [String] {
        let wanted: Set = ["kc-\(lab)-svc", "kc-\(lab)-nodeport"]
        return try ["kc-\(lab).pod.x.client", "kc-\(lab).pod.x.server", "kc-\(lab).node0"].flatMap { netns in
            try keycardTables(in: netns).filter(wanted.contains).map { "\(netns): \($0)" }
        }.sorted()
    }

    /// A change that made the lab's first Service and was killed before it was recorded leaves
    /// proxy tables the record has no Service for: the next change removes them, whether the lab
    /// process makes it (it reloads the lab) or the verb does (no lab process); `down` then
    /// leaves no table of the lab anywhere.
    @Test func theProxyTablesOfAnUnrecordedFirstServiceAreRemovedByTheNextChange() throws {
        let scenario = try CliScenario(stem: "cli-fsv", pods: [("x", "client"), ("x", "server")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        try #require(try Self.proxyTables(lab).isEmpty, "a lab without Services has no proxy table")
        let service = try scenario.write("svc.yaml", Self.nodePortService)
        let expected = [
            "kc-\(lab).node0: kc-\(lab)-nodeport", "kc-\(lab).pod.x.client: kc-\(lab)-svc", "kc-\(lab).pod.x.server: kc-\(lab)-svc",
        ]

        // The lab process makes both changes; the second finds the marker and reloads the lab.
        let apply = try KeycardCLI.run(["apply", lab, "-f", service])
        try #require(apply.code == 0, "\(apply.err)")
        try #require(try Self.proxyTables(lab) == expected)
        try Self.leaveUnrecorded(lab)
        #expect(try KeycardCLI.status(lab)["interruptedChange"] as? Bool == true)
        let served = try KeycardCLI.run(["label", lab, "pod", "x/client", "pod=client"])
        #expect(served.code == 0, "\(served.err)")
        #expect(try Self.proxyTables(lab).isEmpty, "the lab process left the unrecorded Service's tables")
        #expect(LiveChangeMarker.read(lab) == nil)

        // No lab process: the verb makes both changes itself, the second rewriting the lab whole.
        let server = try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int)
        kill(pid_t(server), SIGKILL)
        try #require(CliLiveLifecycleTests.waitUntil { ProcessTable.hasExited(pid_t(server)) })
        let again = try KeycardCLI.run(["apply", lab, "-f", service])
        try #require(again.code == 0, "\(again.err)")
        try #require(try Self.proxyTables(lab) == expected)
        try Self.leaveUnrecorded(lab)
        let itself = try KeycardCLI.run(["label", lab, "pod", "x/client", "pod=client"])
        #expect(itself.code == 0, "\(itself.err)")
        #expect(try Self.proxyTables(lab).isEmpty, "the verb left the unrecorded Service's tables")
        #expect(LiveChangeMarker.read(lab) == nil)

        // Left again, `down` removes every table of the lab with its namespaces, whatever the
        // record says: none is left in a namespace, and none in the host's.
        try #require(try KeycardCLI.run(["apply", lab, "-f", service]).code == 0)
        try Self.leaveUnrecorded(lab)
        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(Lab.namespaces(of: lab).isEmpty)
        #expect(!(try runWitness(["ip", "netns", "list"])).contains("kc-\(lab)."))
        #expect(!(try runWitness(["nft", "list", "tables"])).contains("kc-\(lab)"))
    }

    /// SIGINT to a verb that handed its change to the lab process, while it waits for the reply
    /// (the lab process stopped with SIGSTOP, so the verb is surely waiting): the verb holds it,
    /// prints the reply once the change is made and recorded, then exits 130.
    @Test func aVerbWaitingForTheLabProcessHoldsSigint() throws {
        try Self.withVerbWaitingOnAStoppedLabProcess(stem: "cli-hsg") { lab, server, verb throws in
            kill(verb.pid, SIGINT)
            #expect(!verb.wait(seconds: 1), "SIGINT ended the verb while the lab process was making its change")
            kill(server, SIGCONT)
            #expect(verb.wait(seconds: 20))
            #expect(verb.process.terminationReason == .exit && verb.process.terminationStatus == 128 + SIGINT, "\(verb.stderr)")
            #expect(verb.stdout.contains("lab \(lab): 1 namespace reprogrammed"), "\(verb.stdout)")
            #expect(verb.stderr.contains("interrupted (signal \(SIGINT)) after the change was made and recorded"), "\(verb.stderr)")
            #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 1)
            #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
        }
    }

    /// A second SIGINT to a verb waiting on a lab process that does not answer (stopped with
    /// SIGSTOP) ends the wait: exit 130, saying the change may still be made. The lab process,
    /// once it runs again, makes the change it was handed, and the lab stays usable.
    @Test func aSecondSigintStopsWaitingForAHungLabProcess() throws {
        try Self.withVerbWaitingOnAStoppedLabProcess(stem: "cli-hng") { lab, server, verb throws in
            kill(verb.pid, SIGINT)
            #expect(!verb.wait(seconds: 1), "the first SIGINT ended the verb")
            kill(verb.pid, SIGINT)
            try #require(verb.wait(seconds: 20), "a second SIGINT did not end the wait")
            #expect(verb.process.terminationReason == .exit && verb.process.terminationStatus == 128 + SIGINT, "\(verb.stderr)")
            #expect(verb.stderr.contains("stopped waiting for the lab process's reply; it may still make the change"), "\(verb.stderr)")
            #expect(verb.stderr.contains("interrupted (signal \(SIGINT))"), "\(verb.stderr)")

            kill(server, SIGCONT)
            let made = CliLiveLifecycleTests.waitUntil(seconds: 20) { (try? KeycardCLI.status(lab)["liveChanges"] as? Int) == 1 }
            #expect(made, "the lab process did not make the change it was handed")
            #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
            let label = try KeycardCLI.run(["label", lab, "pod", "x/b", "pod=b2"])
            #expect(label.code == 0, "\(label.err)")
        }
    }

    /// Brings up a lab of pods x/a and x/b, stops its lab process (SIGSTOP), starts `apply` of a
    /// deny-ingress policy for x/a and, once the verb waits for the reply, runs `body` with the
    /// lab's name, the lab process's pid and the verb. Afterwards the lab process is continued
    /// (harmless when `body` did) and the verb killed, the lab torn down.
    private static func withVerbWaitingOnAStoppedLabProcess(
        stem: String, _ body: (_ lab: String, _ server: pid_t, _ verb: Background) throws -> Void
    ) throws {
        let scenario = try CliScenario(stem: stem, pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let server = pid_t(try #require((try KeycardCLI.status(lab)["server"] as? [String: Any])?["pid"] as? Int))
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))

        try #require(kill(server, SIGSTOP) == 0)
        defer { kill(server, SIGCONT) }
        let verb = try Background(["apply", lab, "-f", policy], folder: scenario.folder, name: "apply")
        defer { verb.kill(SIGKILL) }
        try #require(waitsForTheReply(verb), "the verb never waited for the lab process: \(verb.stderr)")
        try body(lab, server, verb)
    }

    /// Whether `verb` has sent its request and waits for the reply: blocked in `poll` on the
    /// control socket (its wait wakes every 200 ms to look at the signals), within 20 s.
    private static func waitsForTheReply(_ verb: Background) -> Bool {
        CliLiveLifecycleTests.waitUntil(seconds: 20) {
            let channel = (try? String(contentsOfFile: "/proc/\(verb.pid)/wchan", encoding: .utf8)) ?? ""
            return channel.contains("poll")
        }
    }

    /// `down` stops an observe of the lab however it was started: through a link to keycard under
    /// another name, its options grouped (`-vo compact`) or joined (`--verdict=DROPPED`). Each
    /// ends as SIGTERM ends it (exit 0), not by noticing later that its lab is gone (exit 1).
    @Test func downStopsObserversWhateverTheirCommandLine() throws {
        let scenario = try CliScenario(stem: "cli-obr", pods: [("x", "a")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let link = "\(scenario.folder)/kcwatch"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: KeycardCLI.binary)

        let linked = try Background(
            ["observe", "--verdict=DROPPED", "-vo", "compact", lab], folder: scenario.folder, name: "observe-linked", executable: link)
        defer { linked.kill() }
        let grouped = try Background(["observe", "-vo", "compact", lab], folder: scenario.folder, name: "observe-grouped")
        defer { grouped.kill() }
        for observe in [linked, grouped] {
            try #require(
                CliLiveLifecycleTests.waitUntil(seconds: 20) { observe.stderr.contains("observing new flows") }, "\(observe.stderr)")
        }
        #expect(Lab.observers(of: lab) == [linked.pid, grouped.pid].sorted())

        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        for observe in [linked, grouped] {
            try #require(observe.wait(seconds: 10), "an observe of the removed lab still runs")
            #expect(observe.process.terminationReason == .exit && observe.process.terminationStatus == 0, "\(observe.stderr)")
            #expect(observe.stderr.contains("observe stopped (signal \(SIGTERM))"), "\(observe.stderr)")
        }
    }

    /// A namespace deleted by hand while the lab process runs: `status` names it (text and JSON)
    /// rather than blaming a keycard process that is gone, and still points to `keycard down`.
    @Test func statusNamesTheMissingNamespace() throws {
        let scenario = try CliScenario(stem: "cli-mns", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let netns = "kc-\(lab).pod.x.a"
        try #require(Lab.namespaces(of: lab).contains(netns))
        _ = try runWitness(["ip", "netns", "delete", netns])
        try #require(!Lab.namespaces(of: lab).contains(netns))

        let status = try KeycardCLI.status(lab)
        #expect(status["complete"] as? Bool == false)
        #expect(status["missingNamespaces"] as? [String] == [netns])
        #expect((status["server"] as? [String: Any])?["alive"] as? Bool == true)
        let text = try KeycardCLI.run(["status", lab]).out
        #expect(
            text.contains("incomplete: namespace \(netns) is missing (deleted outside keycard?); keycard down \(lab) removes it"), "\(text)"
        )
        #expect(!text.contains("is gone"), "\(text)")
        // The live verbs refuse the lab before they touch the kernel, as they refuse an incomplete one.
        let missing = "lab \(lab): its namespace \(netns) is missing (deleted outside keycard?)"
        let label = try KeycardCLI.run(["label", lab, "pod", "x/b", "pod=b"])
        #expect(label.code == 2 && label.err.contains(missing), "\(label.code) \(label.err)")
        #expect(LiveChangeMarker.read(lab) == nil)
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/b", "--to", "x/a"])
        #expect(probe.code == 2 && probe.err.contains(missing), "\(probe.code) \(probe.err)")
        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(Lab.namespaces(of: lab).isEmpty)
    }
}
