import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// SIGINT at twenty moments of a run with real programs (redis-server, sleep): the run stops at its
/// next safe point, tears its lab down on its own thread and exits 130; nothing of the lab is left
/// (namespace, /run/keycard entry, process in its namespaces), and nothing crashes.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct SignalMomentsTests {
    static func scenario(lab: String, marker: String) -> String {
        var text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {nodes: 2}
              probe: {timeout: 200ms, retries: 0}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: data}}
                - {apiVersion: v1, kind: Pod, metadata: {name: redis-0, namespace: data, labels: {app: redis}}, spec: {containers: [{name: redis, image: redis, command: [redis-server, --port, "6379", --bind, 0.0.0.0, --protected-mode, "no", --save, "", --appendonly, "no"], ports: [{containerPort: 6379}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: redis-1, namespace: data, labels: {app: redis}}, spec: {containers: [{name: redis, image: redis, command: [redis-server, --port, "6379", --bind, 0.0.0.0, --protected-mode, "no", --save, "", --appendonly, "no"], ports: [{containerPort: 6379}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: sleeper, namespace: data, labels: {app: sleeper}}, spec: {containers: [{name: c, image: i, command: [sleep, "\(marker)"]}]}}

            """
        for index in 0..<12 {
            text +=
                "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: data, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}\n"
        }
        text += """
              steps:
                - probe: {ports: [TCP/80, TCP/6379]}
                - apply:
                    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: redis, namespace: data}, spec: {podSelector: {matchLabels: {app: redis}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}}
                - probe: {ports: [TCP/80, TCP/6379]}
                - delete:
                    - {kind: NetworkPolicy, namespace: data, name: redis}
                - probe: {ports: [TCP/80, TCP/6379]}

            """
        return text
    }

    /// The network-namespace inode of every process (`/proc/PID/ns/net` is `net:[INODE]`).
    static func processesByNamespace() -> [(pid: String, inode: UInt64)] {
        var result: [(String, UInt64)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/net"),
                let open = link.firstIndex(of: "["), let inode = UInt64(link[link.index(after: open)...].dropLast())
            else { continue }
            result.append((entry, inode))
        }
        return result
    }

    /// Inodes of the lab's namespaces now (a bind mount under /run/netns has the namespace's inode).
    static func namespaceInodes(lab: String) -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        for name in NetworkNamespaceList.names() where name.hasPrefix("kc-\(lab).") {
            var info = stat()
            if stat("/run/netns/\(name)", &info) == 0 { inodes.insert(UInt64(info.st_ino)) }
        }
        return inodes
    }

    /// Watches the lab's namespaces for `seconds` while `child` runs (to look for processes left in
    /// them afterwards); returns their inodes.
    static func watch(_ child: Hardening.Child, lab: String, seconds: Double) -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && child.isRunning {
            inodes.formUnion(namespaceInodes(lab: lab))
            usleep(5_000)
        }
        return inodes
    }

    @Test func sigintAtTwentyMomentsLeavesNothing() throws {
        let lab = Hardening.labName("sigint")
        let marker = "3599.\(Int.random(in: 100_000...999_999))"
        let file = try Hardening.writeScenario(Self.scenario(lab: lab, marker: marker))
        defer { _ = Hardening.down(lab) }

        // One whole run first: it passes, and its length spreads the twenty moments.
        let started = Date()
        let whole = try Hardening.Child(["run", file])
        let wholeStatus = whole.wait(seconds: 120)
        let length = Date().timeIntervalSince(started)
        #expect(wholeStatus == 0, "the uninterrupted run failed: \(whole.stderr)")
        print("uninterrupted run: \(String(format: "%.2f", length)) s")

        var interrupted = 0
        for moment in 0..<20 {
            // Spread over the run; a run that ends before its moment is tried again, earlier.
            var delay = max(0.02, length * (Double(moment) + 0.5) / 20 * 0.9)
            var child = try Hardening.Child(["run", file])
            var inodes = Self.watch(child, lab: lab, seconds: delay)
            for _ in 0..<3 where !child.isRunning {
                delay /= 2
                child = try Hardening.Child(["run", file])
                inodes = Self.watch(child, lab: lab, seconds: delay)
            }
            guard child.isRunning else {
                Issue.record("moment \(moment): every run ended before its signal (last delay \(String(format: "%.2f", delay)) s)")
                continue
            }
            inodes.formUnion(Self.namespaceInodes(lab: lab))
            let progress = child.stderr.split(separator: "\n").last.map(String.init) ?? "(nothing yet)"
            child.signal(SIGINT)
            var status = child.wait(seconds: 60)
            // A run at its very end can exit on its own between the check above and the signal:
            // whole (its closing line printed), exit 0. That moment is tried again, earlier.
            for _ in 0..<3 where status == 0 && child.stdout.contains("\(lab): PASSED") {
                _ = Hardening.down(lab)
                delay /= 2
                child = try Hardening.Child(["run", file])
                inodes = Self.watch(child, lab: lab, seconds: delay).union(inodes)
                guard child.isRunning else { continue }
                child.signal(SIGINT)
                status = child.wait(seconds: 60)
            }
            interrupted += 1
            #expect(status == 130, "moment \(moment) at \"\(progress)\": exit \(status); stderr:\n\(child.stderr)")
            let left = Hardening.traces(lab: lab, marker: marker)
            #expect(left.isEmpty, "moment \(moment) at \"\(progress)\": left \(left)")
            let stray = Self.processesByNamespace().filter { inodes.contains($0.inode) }
            #expect(stray.isEmpty, "moment \(moment) at \"\(progress)\": processes still in the lab's namespaces: \(stray.map(\.pid))")
            if !left.isEmpty || !stray.isEmpty { _ = Hardening.down(lab) }
        }
        #expect(interrupted == 20)
    }

    /// A run whose stdout and stderr pipe is closed at once (`keycard run F 2>&1 | true`) loses its
    /// output, not its lab: it runs to the end and tears down (it had crashed on the first
    /// progress line, leaving namespaces and programs); SIGHUP (a closed terminal) mid-run stops it
    /// at the next step boundary, exit 129, nothing left.
    @Test func closedPipeAndHangupLeaveNothing() throws {
        let lab = Hardening.labName("pipe")
        let marker = "3598.\(Int.random(in: 100_000...999_999))"
        let file = try Hardening.writeScenario(Self.scenario(lab: lab, marker: marker))
        defer { _ = Hardening.down(lab) }

        let piped = try Hardening.Child(
            ["run", file], prefix: ["/bin/bash", "-c", "\"$0\" \"$@\" 2>&1 | true; exit ${PIPESTATUS[0]}"])
        let pipedStatus = piped.wait(seconds: 120)
        #expect(pipedStatus == 0, "exit \(pipedStatus)")
        let leftByPipe = Hardening.traces(lab: lab, marker: marker)
        #expect(leftByPipe.isEmpty, "left \(leftByPipe)")
        if !leftByPipe.isEmpty { _ = Hardening.down(lab) }

        let hungUp = try Hardening.Child(["run", file])
        #expect(hungUp.waitUntil(seconds: 60) { !Self.namespaceInodes(lab: lab).isEmpty })
        hungUp.signal(SIGHUP)
        let status = hungUp.wait(seconds: 60)
        #expect(status == 129, "exit \(status); stderr:\n\(hungUp.stderr)")
        let left = Hardening.traces(lab: lab, marker: marker)
        #expect(left.isEmpty, "left \(left)")
    }
}
