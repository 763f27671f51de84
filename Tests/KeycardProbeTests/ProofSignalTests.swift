import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// SIGTERM at moments of `generate --prove` (its observing run, then the proof's own lab) and of
/// `diff --prove` (a lab per side): the command exits 143, or 0 when it had already finished, and
/// no lab named after the scenario is left (`<lab>`, `<lab>-proofPID`, `<lab>-oldPID`, `-newPID`:
/// namespaces, /run/keycard entries, its `sleep` program). Both had left whole labs behind.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct ProofSignalTests {
    /// The namespaces and /run/keycard entries of every lab whose name starts with `lab`.
    static func leftovers(_ lab: String, marker: String) -> [String] {
        let namespaces = NetworkNamespaceList.names().filter { $0.hasPrefix("kc-\(lab)") }
        let states = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/keycard")) ?? []).filter { $0.hasPrefix(lab) }
        return namespaces + states.map { "/run/keycard/\($0)" } + Hardening.traces(lab: lab, marker: marker).processes
    }

    /// Removes every lab whose name starts with `lab` (after a failed expectation).
    static func clean(_ lab: String) {
        let names = Set(
            NetworkNamespaceList.names().filter { $0.hasPrefix("kc-\(lab)") }.compactMap { $0.dropFirst(3).split(separator: ".").first })
        for name in names { _ = Hardening.down(String(name)) }
    }

    /// Runs `arguments` once whole (it must pass), then interrupts it at `moments` points spread
    /// over that length and checks each exit and what is left.
    static func interrupt(_ arguments: [String], lab: String, marker: String, moments: Int) throws {
        defer { clean(lab) }
        let started = Date()
        let whole = try Hardening.Child(arguments)
        #expect(whole.wait(seconds: 180) == 0, "the uninterrupted command failed: \(whole.stderr)")
        let length = Date().timeIntervalSince(started)
        print("uninterrupted \(arguments[0]): \(String(format: "%.2f", length)) s")
        var signalled = 0
        for moment in 0..<moments {
            let delay = max(0.05, length * (Double(moment) + 0.5) / Double(moments))
            let child = try Hardening.Child(arguments)
            _ = child.waitUntil(seconds: delay) { false }
            let progress = child.stderr.split(separator: "\n").last.map(String.init) ?? "(nothing yet)"
            if child.isRunning { signalled += 1 }
            child.signal(SIGTERM)
            let status = child.wait(seconds: 60)
            #expect([0, 143].contains(status), "moment \(moment) at \"\(progress)\": exit \(status); stderr:\n\(child.stderr)")
            let left = leftovers(lab, marker: marker)
            #expect(left.isEmpty, "moment \(moment) at \"\(progress)\": left \(left)")
            if !left.isEmpty { clean(lab) }
        }
        #expect(signalled >= moments / 2, "only \(signalled) of \(moments) moments caught the command running")
    }

    @Test func generateProveInterruptedLeavesNoLab() throws {
        let lab = Hardening.labName("sigproof")
        let marker = "3597.\(Int.random(in: 100_000...999_999))"
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: 40, sleep: marker))
        try Self.interrupt(["generate", file, "--prove"], lab: lab, marker: marker, moments: 8)
    }

    @Test func diffProveInterruptedLeavesNoLab() throws {
        let lab = Hardening.labName("sigdiff")
        let marker = "3596.\(Int.random(in: 100_000...999_999))"
        let scenario = Hardening.bigScenario(lab: lab, pods: 40, sleep: marker)
        let old = try Hardening.writeScenario(scenario)
        // The new side: every pod of ns1 isolated for egress (the diff's rows: lost).
        let policy =
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: ns1}, spec: {podSelector: {}, policyTypes: [Egress]}}\n"
        let text = scenario.replacingOccurrences(of: "  steps:\n", with: policy + "  steps:\n")
        let new = try Hardening.writeScenario(text)
        try Self.interrupt(["diff", old, new, "--prove"], lab: lab, marker: marker, moments: 8)
    }
}
