import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import Testing

/// The lab lifecycle through the built `keycard` binary, as root on the real kernel. Never skipped:
/// without root these tests fail (CI runs them as root). Every test uses its own lab name and tears
/// it down whatever happens.
@Suite(.serialized) struct CliTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(
            FileManager.default.isExecutableFile(atPath: KeycardCLI.binary),
            "keycard is not built at \(KeycardCLI.binary): swift build --build-tests builds it")
    }

    @Test func upStatusServesPortsAndDownRemovesEverything() throws {
        let scenario = try CliScenario(stem: "cli-up", nodes: 2, pods: [("x", "a"), ("x", "b"), ("y", "a")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        #expect(up.out.contains("lab \(scenario.lab) is up"))

        let status = try KeycardCLI.status(scenario.lab)
        let pods = try #require(status["pods"] as? [[String: Any]])
        #expect(pods.map { "\($0["namespace"] ?? "")/\($0["name"] ?? "")" }.sorted() == ["x/a", "x/b", "y/a"])
        #expect(Set(pods.compactMap { $0["node"] as? String }) == ["node-0", "node-1"])
        let server = try #require(status["server"] as? [String: Any])
        let pid = try #require(server["pid"] as? Int)
        #expect(server["alive"] as? Bool == true)
        #expect(status["enforcement"] as? String == "pod")
        #expect(servePids(scenario.lab) == [Int32(pid)])

        // The lab process answers from inside x/a's namespace; the socket is born in x/b's.
        let target = try #require(pods.first { $0["namespace"] as? String == "x" && $0["name"] as? String == "a" })
        let address = try #require(target["address"] as? String)
        #expect(try readServedLine(from: "kc-\(scenario.lab).pod.x.b", to: address, port: 80) == "x/a")
        #expect(try readServedLine(from: "kc-\(scenario.lab).pod.y.a", to: address, port: 80) == "x/a")

        let down = try KeycardCLI.run(["down", scenario.lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(down.out.contains("removed"))
        #expect(Lab.namespaces(of: scenario.lab).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(scenario.lab)))
        #expect(ProcessTable.hasExited(Int32(pid)))
        #expect(servePids(scenario.lab).isEmpty)

        let again = try KeycardCLI.run(["down", scenario.lab])
        #expect(again.code == 0)
        #expect(again.out.contains("nothing to remove"))
        #expect(try KeycardCLI.run(["status", scenario.lab]).code == 2, "an unknown lab is invalid input, as for every verb")
    }

    @Test(arguments: ["pod", "node"])
    func defaultDenyProgramsTablesWhereEnforcementSays(_ enforcement: String) throws {
        let scenario = try CliScenario(
            stem: "cli-enf", nodes: 2, pods: [("x", "a"), ("x", "b"), ("y", "a")],
            extra: [
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: x}, "
                    + "spec: {podSelector: {}, policyTypes: [Ingress]}}"
            ])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file, "--enforcement", enforcement])
        try #require(up.code == 0, "\(up.err)")
        let table = "kc-\(scenario.lab)"
        let pods = ["x.a", "x.b", "y.a"].map { "kc-\(scenario.lab).pod.\($0)" }
        let nodes = ["node0", "node1"].map { "kc-\(scenario.lab).\($0)" }
        if enforcement == "pod" {
            #expect(try keycardTables(in: pods[0]) == [table])
            for node in nodes { #expect(try keycardTables(in: node).isEmpty) }
        } else {
            for pod in pods { #expect(try keycardTables(in: pod).isEmpty) }
            for node in nodes { #expect(try keycardTables(in: node) == [table]) }
        }
        // And the packets agree: y/a cannot reach x/a, x/a can reach y/a.
        let denied = try KeycardCLI.probeOne(scenario.lab, from: "y/a", to: "x/a")
        #expect(denied.observed == "deny" && denied.model == "deny" && denied.code == 0)
        let allowed = try KeycardCLI.probeOne(scenario.lab, from: "x/a", to: "y/a")
        #expect(allowed.observed == "allow" && allowed.code == 0)
    }

    /// `keycard up` refuses meshed pods, and so does a live change that would mesh one (an
    /// ambient namespace label, a pod label): exit 2, nothing recorded, probes as before.
    @Test func liveChangeThatMeshesAPodIsRefused() throws {
        let scenario = try CliScenario(stem: "cli-mesh", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let lab = scenario.lab
        let namespace = try KeycardCLI.run(["label", lab, "namespace", "x", "istio.io/dataplane-mode=ambient"])
        #expect(namespace.code == 2 && namespace.err.contains("in the mesh (ambient)"), "\(namespace.err)")
        let pod = try KeycardCLI.run(["label", lab, "pod", "x/a", "pod=a", "istio.io/dataplane-mode=ambient"])
        #expect(pod.code == 2 && pod.err.contains("puts pod x/a in the mesh"), "\(pod.err)")
        // Nothing was recorded: a policy selecting the label selects nobody.
        let policy = try scenario.write(
            "deny.yaml",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-meshed, namespace: x}
            spec: {podSelector: {matchLabels: {istio.io/dataplane-mode: ambient}}, policyTypes: [Ingress]}
            """)
        #expect(try KeycardCLI.run(["apply", lab, "-f", policy]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")
    }

    @Test func applyLabelAndDeleteChangeWhatProbeObserves() throws {
        let scenario = try CliScenario(stem: "cli-live", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let lab = scenario.lab
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")

        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        let apply = try KeycardCLI.run(["apply", lab, "-f", policy])
        #expect(apply.code == 0, "\(apply.err)")
        #expect(apply.out.contains("NetworkPolicy x/deny-in created"))
        let afterApply = try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a")
        #expect(afterApply.observed == "deny" && afterApply.model == "deny" && afterApply.code == 0)

        // The policy selects pod=a: relabelled, x/a is no longer isolated.
        #expect(try KeycardCLI.run(["label", lab, "pod", "x/a", "pod=other", "tier=web"]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")
        #expect(try KeycardCLI.run(["label", lab, "pod", "x/a", "pod=a"]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")

        // Invalid input: file:line:col, exit 2, nothing applied or journalled.
        let bad = try scenario.write(
            "bad.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec:\n  podSelector: {}\n  ingress:\n    - ports: [{port: 99999}]\n"
        )
        let refused = try KeycardCLI.run(["apply", lab, "-f", bad])
        #expect(refused.code == 2)
        #expect(refused.err.hasPrefix("\(bad):7:"), "\(refused.err)")
        #expect(try KeycardCLI.run(["label", lab, "pod", "x/nope", "a=b"]).code == 2)
        let twice = try KeycardCLI.run(["probe", lab, "--ports", "TCP/80,TCP/80"])
        #expect(twice.code == 2 && twice.err.contains("--ports TCP/80 is listed twice"), "\(twice.err)")
        #expect(try KeycardCLI.run(["label", lab, "namespace", "x", "bad key=1"]).code == 2)
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 3)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
        // Refused when applied (a pod's ports are fixed), after the file was read: its journal copy
        // goes too, so the journal holds the one applied file only.
        let portChange = try scenario.write(
            "ports.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {pod: a}}\nspec: {containers: [{name: c, ports: [{containerPort: 9999}]}]}\n"
        )
        let changed = try KeycardCLI.run(["apply", lab, "-f", portChange])
        #expect(changed.code == 2 && changed.err.contains("must keep the ports the lab serves"), "\(changed.err)")
        let copies = (try? FileManager.default.contentsOfDirectory(atPath: "/run/keycard/\(lab)/journal")) ?? []
        #expect(copies.filter { $0.hasSuffix(".yaml") }.count == 1, "\(copies)")
        #expect(try KeycardCLI.status(lab)["liveChanges"] as? Int == 3)

        // delete -f removes what the file names; deleting it twice is an error.
        #expect(try KeycardCLI.run(["delete", lab, "-f", policy]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")
        #expect(try KeycardCLI.run(["delete", lab, "-f", policy]).code == 2)

        // A namespace label change is seen by namespaceSelector peers.
        let fromLabelled = try scenario.write(
            "from-ns.yaml",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-trusted, namespace: x}
            spec:
              podSelector: {}
              ingress: [{from: [{namespaceSelector: {matchLabels: {trust: "yes"}}}]}]

            """)
        #expect(try KeycardCLI.run(["apply", lab, "-f", fromLabelled]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
        #expect(try KeycardCLI.run(["label", lab, "namespace", "x", "trust=yes"]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "allow")

        let scan = try KeycardCLI.run(["scan", lab, "--from", "x/b", "--ports", "22,80"])
        #expect(scan.code == 0, "\(scan.out)\(scan.err)")
        #expect(scan.out.contains("x/a:80"))
    }

    /// `keycard status` marks a pod the lab was built for that the cluster does not hold now (one
    /// a later step creates): probing it would be refused.
    @Test func statusMarksPodsNotInTheClusterNow() throws {
        let lab = uniqueLabName("cli-stat")
        let folder = NSTemporaryDirectory() + "keycard-cli-\(lab)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: folder)
        }
        let pod = { (name: String) in
            "{apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: x}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}"
        }
        try """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(lab)}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - \(pod("a"))
          steps:
            - apply:
                - \(pod("later"))
            - probe: {ports: [TCP/80]}
        """.write(toFile: folder + "/scenario.yaml", atomically: true, encoding: .utf8)
        try #require(try KeycardCLI.run(["up", folder + "/scenario.yaml"]).code == 0)
        let pods = try #require(try KeycardCLI.status(lab)["pods"] as? [[String: Any]])
        let inCluster = Dictionary(uniqueKeysWithValues: pods.map { ("\($0["name"] ?? "")", $0["inCluster"] as? Bool) })
        #expect(inCluster["a"] == true && inCluster["later"] == false, "\(pods)")
        #expect(try KeycardCLI.run(["status", lab]).out.contains("x/later (not in the cluster now)"))
    }

    /// A live scan reports filtered endpoints too, as its help and a scenario's scan step do.
    @Test func liveScanReportsFilteredEndpoints() throws {
        let deny = """
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny-a, namespace: x}, spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Ingress]}}
            """
        let scenario = try CliScenario(stem: "cli-scanf", pods: [("x", "a"), ("x", "b")], extra: [deny])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let scan = try KeycardCLI.run(["scan", scenario.lab, "--from", "x/b", "--ports", "80"])
        #expect(scan.code == 0, "\(scan.out)\(scan.err)")
        #expect(scan.out.contains("x/a:80") && scan.out.contains("observed filtered, model filtered"), "\(scan.out)")
    }

    /// `keycard up` SIGKILLed while it builds 100 pods: `keycard down --all` (or `down LAB` when other
    /// labs are alive) still removes everything; `status` lists the half-built lab first.
    @Test func killedMidBringUpAndDownRemovesEverything() throws {
        let pods = (0..<100).map { ("x", "p\($0)") }
        let scenario = try CliScenario(stem: "cli-crash", nodes: 2, pods: pods)
        defer { scenario.cleanUp() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        process.arguments = ["up", scenario.file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = 0
        for _ in 0..<50_000 where seen < 10 {
            seen = Lab.namespaces(of: scenario.lab).count
            if seen < 10 { usleep(100) }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(seen >= 10)

        let labs = try #require(
            try JSONSerialization.jsonObject(with: Data(try KeycardCLI.run(["status", "-o", "json"]).out.utf8)) as? [String: Any])
        let found = (labs["labs"] as? [[String: Any]] ?? []).first { $0["name"] as? String == scenario.lab }
        #expect((found?["namespaces"] as? Int ?? 0) >= 10)
        #expect(found?["complete"] as? Bool == false)

        // `down --all` removes every keycard lab on the machine, also one another test run creates
        // a moment later: it is used only where the machine is this run's alone (CI: .ci/run sets
        // KEYCARD_TEST_MACHINE_EXCLUSIVE=1) and this crashed lab is the only one; elsewhere (a
        // developer's labs, parallel test runs) the lab is removed by name.
        let exclusive = ProcessInfo.processInfo.environment["KEYCARD_TEST_MACHINE_EXCLUSIVE"] == "1"
        let others = exclusive ? Lab.labNames().filter { $0 != scenario.lab } : ["(not exclusive)"]
        let down = try KeycardCLI.run(others.isEmpty ? ["down", "--all"] : ["down", scenario.lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(Lab.namespaces(of: scenario.lab).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(scenario.lab)))
        #expect(servePids(scenario.lab).isEmpty)
        if others.isEmpty {
            #expect(NetworkNamespace.list().filter { $0.hasPrefix("kc-") }.isEmpty)
            #expect(Lab.labNames().isEmpty)
        }
        #expect(try KeycardCLI.run(["down"]).code != 0, "down needs a lab or --all")
        #expect(try KeycardCLI.run(["down", scenario.lab, "--all"]).code != 0)
    }

    /// strace -f of `keycard up` (the lab process included) and `keycard down`: the only program ever
    /// executed is keycard itself (re-executed as the lab process); never ip, nft, iptables or a shell.
    @Test func traceShowsNoIpNftOrShell() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "strace is needed (apt-get install strace)")
        let scenario = try CliScenario(
            stem: "cli-trace", nodes: 2, pods: [("x", "a"), ("y", "a")],
            extra: [
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: x}, "
                    + "spec: {podSelector: {}, policyTypes: [Ingress]}}"
            ])
        defer { scenario.cleanUp() }
        let upTrace = "\(scenario.folder)/up.trace"
        let downTrace = "\(scenario.folder)/down.trace"
        // strace of `up` lasts as long as the lab process it follows: run it in the background and
        // watch the trace for `up` itself exiting.
        let tracer = Process()
        tracer.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        tracer.arguments = ["-f", "-e", "trace=execve", "-o", upTrace, KeycardCLI.binary, "up", scenario.file]
        tracer.standardOutput = FileHandle.nullDevice
        tracer.standardError = FileHandle.nullDevice
        try tracer.run()
        defer { if tracer.isRunning { kill(tracer.processIdentifier, SIGKILL) } }
        var upExit: String?
        for _ in 0..<3000 where upExit == nil {
            let lines = ((try? String(contentsOfFile: upTrace, encoding: .utf8)) ?? "").split(separator: "\n")
            if let first = lines.first?.split(separator: " ").first {
                // strace pads pids to five columns: "9691  +++ exited" but "31540 +++ exited".
                upExit = lines.first { line in
                    line.split(separator: " ").prefix(4).map(String.init) == [String(first), "+++", "exited", "with"]
                }.map(String.init)
            }
            if upExit == nil { usleep(10_000) }
        }
        #expect(upExit?.hasSuffix("exited with 0 +++") == true, "\(upExit ?? "up did not finish")")
        #expect(try KeycardCLI.status(scenario.lab)["server"] != nil)

        let down = Process()
        down.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        down.arguments = ["-f", "-e", "trace=execve", "-o", downTrace, KeycardCLI.binary, "down", scenario.lab]
        down.standardOutput = FileHandle.nullDevice
        down.standardError = FileHandle.nullDevice
        try down.run()
        down.waitUntilExit()
        #expect(down.terminationStatus == 0)
        // The lab process is gone, so the first strace ends too.
        for _ in 0..<500 where tracer.isRunning { usleep(10_000) }
        #expect(!tracer.isRunning)

        let executed = try [upTrace, downTrace].flatMap { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
                guard let start = line.range(of: "execve(\"") else { return nil }
                return String(line[start.upperBound...].prefix { $0 != "\"" })
            }
        }
        let names = Set(executed.map { ($0 as NSString).lastPathComponent })
        #expect(names == ["keycard"], "executed: \(executed)")
        for forbidden in ["ip", "nft", "iptables", "sh", "bash", "dash"] { #expect(!names.contains(forbidden)) }
        // up, the lab process (keycard serve), down.
        #expect(executed.count == 3, "\(executed)")
        let upText = try String(contentsOfFile: upTrace, encoding: .utf8)
        #expect(upText.contains("\"serve\", \"\(scenario.lab)\""))
        #expect(Lab.namespaces(of: scenario.lab).isEmpty)
    }
}
