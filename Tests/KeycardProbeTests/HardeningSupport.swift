import Foundation
import Glibc
import KeycardLab
import KeycardTestSupport

/// Helpers of the hardening tests: generated scenarios, a `keycard` child whose stderr can be
/// watched while it runs, and the witnesses of what a lab leaves behind.
enum Hardening {
    /// A fresh lab name: the prefix, then random letters (lab names are [a-z0-9-]{1,24}).
    static func labName(_ prefix: String) -> String {
        let letters = "abcdefghijklmnopqrstuvwxyz"
        return prefix + "-" + String((0..<6).map { _ in letters.randomElement() ?? "a" })
    }

    /// A temporary folder holding one file `name` with `text`; returns the file's path.
    static func writeScenario(_ text: String, name: String = "scenario.yaml") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `pods` pods over four namespaces (port TCP/80 each; every third one a client), a pod running
    /// `sleep SLEEP` (a real `command:`), policies in every namespace, and five steps: probe, apply,
    /// probe, label, probe. Long enough that each phase of a run can be caught by polling.
    static func bigScenario(lab: String, pods: Int, sleep: String, nodes: Int = 2, probeSources: Int = 10, timeout: String = "400ms")
        -> String
    {
        var text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {nodes: \(nodes)}
              probe: {timeout: \(timeout), retries: 1}
              resources:

            """
        for namespace in 0..<4 {
            text += "    - {apiVersion: v1, kind: Namespace, metadata: {name: ns\(namespace), labels: {team: t\(namespace % 2)}}}\n"
            text +=
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: only-clients, namespace: ns\(namespace)}, "
                + "spec: {podSelector: {matchLabels: {role: server}}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: client}}}], ports: [{port: 80}]}]}}\n"
        }
        text +=
            "    - {apiVersion: v1, kind: Pod, metadata: {name: sleeper, namespace: ns0, labels: {app: sleeper}}, "
            + "spec: {containers: [{name: c, image: i, command: [sleep, \"\(sleep)\"]}]}}\n"
        var names: [String] = []
        for index in 0..<pods {
            let name = "ns\(index % 4)/p\(index)"
            names.append(name)
            let role = index % 3 == 0 ? "client" : "server"
            text +=
                "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: ns\(index % 4), labels: {role: \(role)}}, "
                + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}\n"
        }
        let sources = names.prefix(probeSources).joined(separator: ", ")
        text += """
              steps:
                - name: before
                  probe: {from: [\(sources)], ports: [TCP/80]}
                - name: open team t0
                  apply:
            """
        text += "\n"
        for namespace in 0..<4 {
            text +=
                "        - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: team, namespace: ns\(namespace)}, "
                + "spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: t0}}}]}]}}\n"
        }
        text += """
                - name: after
                  probe: {from: [\(sources)], ports: [TCP/80]}
                - label: {kind: Namespace, name: ns1, labels: {team: t0}}
                - name: relabelled
                  probe: {from: [\(sources)], ports: [TCP/80]}

            """
        return text
    }

    /// A running `keycard` whose stdout and stderr go to files that can be read while it runs.
    /// Spawned and reaped with posix_spawn/waitpid, not Foundation's Process: after a SIGKILL,
    /// Process.waitUntilExit was seen here to wait forever on a child it never reaped.
    final class Child {
        let pid: pid_t
        let stderrPath: String
        let stdoutPath: String
        private var status: Int32?

        init(_ arguments: [String], executable: String = KeycardBinary.path, prefix: [String] = []) throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("kc-child-\(UUID().uuidString)").path
            stderrPath = base + ".err"
            stdoutPath = base + ".out"
            let argv = prefix.isEmpty ? [executable] + arguments : prefix + [executable] + arguments
            pid = try Hardening.spawn(argv, stdout: stdoutPath, stderr: stderrPath)
        }

        var isRunning: Bool {
            if status != nil { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid { status = Self.decode(raw) }
            return status == nil
        }

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

        /// Polls `condition` every 2 ms until it holds (true) or `seconds` pass or the child exits (false).
        func waitUntil(seconds: Double = 120, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                if !isRunning { return condition() }
                usleep(2_000)
            }
            return false
        }

        func signal(_ number: Int32) { if status == nil { kill(pid, number) } }

        /// Waits for the exit (at most `seconds`, then SIGKILL); returns the exit status or 128+signal.
        @discardableResult
        func wait(seconds: Double = 120) -> Int32 {
            let deadline = Date().addingTimeInterval(seconds)
            while isRunning && Date() < deadline { usleep(10_000) }
            if isRunning {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                if waitpid(pid, &raw, 0) == pid { status = Self.decode(raw) }
            }
            return status ?? -1
        }

        /// Exit code, or 128 + the signal that ended it (WIFEXITED/WTERMSIG by hand: macros do not import).
        static func decode(_ raw: Int32) -> Int32 {
            let signal = raw & 0x7f
            return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        }
    }

    /// posix_spawn of `argv` (argv[0] a path) with stdout and stderr to files; returns the pid.
    static func spawn(_ argv: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        // A shell starts commands with the default action for every signal and none blocked; the
        // test runner may ignore SIGINT and SIGTERM, which its children would inherit, so a
        // command without its own trap would outlive the signal a test sends it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, number) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }

    /// What a lab can leave on the machine, seen through independent witnesses.
    struct Traces: Equatable, CustomStringConvertible {
        var namespaces: [String]
        var stateDirectory: Bool
        var processes: [String]

        var isEmpty: Bool { namespaces.isEmpty && !stateDirectory && processes.isEmpty }
        var description: String { "namespaces \(namespaces), /run/keycard entry \(stateDirectory), processes \(processes)" }
    }

    /// `/run/netns/kc-LAB.*`, `/run/keycard/LAB`, and processes whose command line holds `marker`.
    static func traces(lab: String, marker: String?) -> Traces {
        let namespaces = NetworkNamespaceList.names().filter { $0.hasPrefix("kc-\(lab).") }.sorted()
        let directory = FileManager.default.fileExists(atPath: "/run/keycard/\(lab)")
        var processes: [String] = []
        if let marker {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
                guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
                let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                if line.contains(marker) { processes.append("\(entry): \(line)") }
            }
        }
        return Traces(namespaces: namespaces, stateDirectory: directory, processes: processes)
    }

    /// Interface names of the host namespace (`ip -o link`), to see that a lab created none there.
    static func hostInterfaces() -> Set<String> {
        let output = run("/usr/sbin/ip", ["-o", "link", "show"]).stdout
        return Set(
            output.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: ":")
                guard fields.count > 1 else { return nil }
                return fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init)
            })
    }

    /// True when namespace `name` holds an nftables table named `table` (`nft list tables` as witness).
    static func hasTable(namespace name: String, table: String) -> Bool {
        run("/usr/sbin/ip", ["netns", "exec", name, "nft", "list", "tables"]).stdout.contains(table)
    }

    /// Runs a program to completion (at most 10 minutes); stdout, stderr and exit status.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
        guard let child = try? Child(arguments, executable: program) else { return (-1, "", "cannot start \(program)") }
        let status = child.wait(seconds: 600)
        defer {
            try? FileManager.default.removeItem(atPath: child.stdoutPath)
            try? FileManager.default.removeItem(atPath: child.stderrPath)
        }
        return (status, child.stdout, child.stderr)
    }

    /// `keycard down LAB` when the binary has the verb, else the library call it wraps.
    static func down(_ lab: String) -> String {
        let result = run(KeycardBinary.path, ["down", lab])
        if result.status == 0 { return "keycard down \(lab)" }
        do {
            try Lab.down(name: lab)
            return "Lab.down(name:) (keycard down: exit \(result.status): \(result.stderr.prefix(120)))"
        } catch {
            return "Lab.down failed: \(error)"
        }
    }

    static var isRoot: Bool { geteuid() == 0 }
}
