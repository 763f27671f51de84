import Foundation
import Glibc
import KeycardLab
import KeycardTestSupport
import KeycardTopology
import Testing

/// `keycard run` refuses, with exit 2 and a clear message, and changes nothing: hostile input,
/// no root, a lab name in use, a stray namespace carrying the lab's prefix.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct HardeningRefusalTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KeycardScenarioTests/HostileCorpus").path

    /// A sample of the hostile corpus (every case names its lab `hostile`), the one that `check`
    /// wrongly accepts included.
    static let sample = [
        "yaml-billion-laughs-top.yaml", "yaml-deep-flow-sequence.yaml", "yaml-nul-byte.yaml", "type-nodes-string.yaml",
        "num-nodes-2pow63.yaml", "cidr-pod-prefix-33.yaml", "dup-pod.yaml", "file-parent-escape.yaml", "file-symlink-escape.yaml",
        "manifest-alias-bomb.yaml", "manifest-list-items-mapping.yaml", "step-unknown-kind.yaml", "label-key-two-slashes.yaml",
        "step-scan-too-large.yaml", "addr-external-in-pod-cidr.yaml",
    ]

    @Test(arguments: sample)
    func hostileInputIsRefusedBeforeTheKernelIsTouched(_ name: String) throws {
        let before = Hardening.traces(lab: "hostile", marker: nil)
        #expect(before.isEmpty, "a lab named hostile exists already: \(before)")
        let path = "\(Self.corpus)/\(name)"
        let result = Hardening.run(KeycardBinary.path, ["run", path])
        #expect(result.status == 2, "\(result.stderr)")
        let located = result.stderr.split(separator: "\n").contains { line in
            line.range(of: #"HostileCorpus/[a-z0-9/.-]+\.yaml:[0-9]+:[0-9]+: "#, options: .regularExpression) != nil
        }
        #expect(located, "no file:line:col in \(result.stderr)")
        #expect(Hardening.traces(lab: "hostile", marker: nil).isEmpty, "the kernel was touched")
    }

    /// As nobody: exit 2 and "run it as root", before anything else.
    @Test func notRoot() throws {
        let lab = Hardening.labName("noroot")
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: 3, sleep: "1"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: (file as NSString).deletingLastPathComponent)
        let result = Hardening.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", KeycardBinary.path, "run", file])
        print("not root: exit \(result.status): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("as root"), "\(result.stderr)")
        #expect(Hardening.traces(lab: lab, marker: nil).isEmpty)
    }

    /// A lab of that name is up: exit 2 naming it, and the lab is left exactly as it was.
    @Test func labNameInUse() throws {
        let lab = Hardening.labName("inuse")
        _ = try Lab.up(spec: LabSpec(labName: lab, nodes: 1, pods: [PodSpec(namespace: "ns0", name: "p0", ports: [.init(.tcp, 80)])]))
        defer { _ = try? Lab.down(name: lab) }
        let before = Hardening.traces(lab: lab, marker: nil)
        let state = try? String(contentsOfFile: "/run/keycard/\(lab)/state.json", encoding: .utf8)
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: 3, sleep: "1"))
        let result = Hardening.run(KeycardBinary.path, ["run", file])
        print("name in use: exit \(result.status): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(lab) && result.stderr.contains("in use"), "\(result.stderr)")
        #expect(Hardening.traces(lab: lab, marker: nil) == before, "the running lab was changed")
        #expect((try? String(contentsOfFile: "/run/keycard/\(lab)/state.json", encoding: .utf8)) == state)
    }

    /// `ip netns add kc-LAB.stray`, not keycard's: exit 2 naming it; the stray stays, nothing is added.
    @Test func strayNamespaceWithTheLabsPrefix() throws {
        let lab = Hardening.labName("stray")
        let stray = "kc-\(lab).stray"
        #expect(Hardening.run("/usr/sbin/ip", ["netns", "add", stray]).status == 0)
        defer { Hardening.run("/usr/sbin/ip", ["netns", "del", stray]) }
        let file = try Hardening.writeScenario(Hardening.bigScenario(lab: lab, pods: 3, sleep: "1"))
        let result = Hardening.run(KeycardBinary.path, ["run", file])
        print("stray namespace: exit \(result.status): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(stray), "\(result.stderr)")
        let after = Hardening.traces(lab: lab, marker: nil)
        #expect(after.namespaces == [stray], "\(after)")
        #expect(!after.stateDirectory, "\(after)")
    }
}
