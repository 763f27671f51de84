import Foundation
import Glibc
import Testing

/// `keycard run` killed without warning at five points of a run; `keycard down LAB` must then
/// leave no namespace, host interface, /run/keycard entry or `command:` process. SIGINT and SIGTERM
/// must tear the lab down by themselves.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct HardeningCrashTests {
    enum Point: String, CaseIterable, Sendable {
        case creatingNamespaces, programmingRules, probing, reconciling, tearingDown
    }

    static let pods = 150

    /// Starts a run of the big scenario, waits for `point`, SIGKILLs it, cleans up with `keycard down`.
    @Test(arguments: Point.allCases)
    func sigkillThenDownLeavesNothing(_ point: Point) throws {
        let lab = Hardening.labName("crash")
        let marker = "3599.\(Int.random(in: 100_000...999_999))"
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: Self.pods, sleep: marker, probeSources: Self.pods))
        let hostBefore = Hardening.hostInterfaces()
        let child = try Hardening.Child(["run", file])
        defer {
            if child.isRunning {
                child.signal(SIGKILL)
                child.wait()
            }
            _ = Hardening.down(lab)
        }
        let firstPodNamespace = "kc-\(lab).pod.ns0.p0"
        let total = Self.pods + 1 + 2 + 1  // pods + sleeper, two nodes, the router
        let reached: Bool
        switch point {
        case .creatingNamespaces:
            reached = child.waitUntil { Hardening.traces(lab: lab, marker: nil).namespaces.count >= 20 }
        case .programmingRules:
            // The initial reconcile programs the pod namespaces in name order: the first has a table.
            reached = child.waitUntil(seconds: 180) {
                NetworkNamespaceList.names().contains(firstPodNamespace)
                    && Hardening.hasTable(namespace: firstPodNamespace, table: "kc-\(lab)")
            }
        case .probing:
            reached = child.waitUntil(seconds: 180) { child.stderr.contains("step 1/5 probe") }
            usleep(100_000)
        case .reconciling:
            reached = child.waitUntil(seconds: 180) { child.stderr.contains("step 2/5 apply") }
        case .tearingDown:
            reached = child.waitUntil(seconds: 240) {
                child.stderr.contains("step 5/5")
                    && (Hardening.traces(lab: lab, marker: marker).processes.isEmpty
                        || Hardening.traces(lab: lab, marker: nil).namespaces.count < total)
            }
        }
        let atKill = child.stderr
        child.signal(SIGKILL)
        let status = child.wait()
        #expect(reached, "never reached \(point); stderr:\n\(atKill)")
        #expect(status == 128 + SIGKILL, "the run ended by itself (\(status)) before the kill; stderr:\n\(atKill)")
        let left = Hardening.traces(lab: lab, marker: marker)
        print(
            "crash \(point): killed with \(left.namespaces.count) namespaces, state dir \(left.stateDirectory), \(left.processes.count) command processes; last progress: \(atKill.split(separator: "\n").last ?? "none")"
        )
        if point != .tearingDown { #expect(!left.isEmpty, "a kill at \(point) should leave something for down to remove") }

        let how = Hardening.down(lab)
        let after = Hardening.traces(lab: lab, marker: marker)
        #expect(after.isEmpty, "after \(how): \(after)")
        #expect(Hardening.hostInterfaces() == hostBefore, "host interfaces changed")
    }

    /// SIGINT and SIGTERM while probing: exit 130 / 143, and nothing is left without any `down`.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptTearsDownByItself(_ number: Int32) throws {
        let lab = Hardening.labName("signal")
        let marker = "3599.\(Int.random(in: 100_000...999_999))"
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: 100, sleep: marker, probeSources: 100))
        let hostBefore = Hardening.hostInterfaces()
        let child = try Hardening.Child(["run", file])
        defer {
            if child.isRunning {
                child.signal(SIGKILL)
                child.wait()
            }
            _ = Hardening.down(lab)
        }
        let reached = child.waitUntil(seconds: 180) { child.stderr.contains("step 1/5 probe") }
        usleep(50_000)
        child.signal(number)
        let status = child.wait(seconds: 60)
        #expect(reached, "never reached probing; stderr:\n\(child.stderr)")
        #expect(status == 128 + number, "exit \(status); stderr:\n\(child.stderr)")
        #expect(child.stderr.contains("interrupted"), "\(child.stderr)")
        let left = Hardening.traces(lab: lab, marker: marker)
        #expect(left.isEmpty, "left behind after signal \(number): \(left)")
        #expect(Hardening.hostInterfaces() == hostBefore, "host interfaces changed")
    }
}
