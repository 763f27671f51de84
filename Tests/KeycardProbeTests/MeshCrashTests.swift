import Foundation
import Glibc
import KeycardProbe
import Testing

/// The mesh's security acceptance (issue 14, point 8): the lab CA's key is never readable by other
/// users, and `keycard run` killed with SIGKILL while its proxy serves leaves, after `keycard down`,
/// no proxy (it lives in the run's own process), no key file and nothing else of the lab.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct MeshCrashTests {
    /// Twelve meshed pods under STRICT, a default-deny that makes every probe wait for the proxy's
    /// upstream timeout: long enough to be killed mid-probe.
    static func scenario(lab: String) -> String {
        var text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
                - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: prod}, spec: {podSelector: {}, policyTypes: [Ingress]}}

            """
        for index in 0..<12 {
            text +=
                "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: prod}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}\n"
        }
        text += "  steps:\n"
        for _ in 0..<6 { text += "    - {probe: {}, expect: {default: deny}}\n" }
        return text
    }

    @Test func sigkillWhileTheProxyServesThenDownLeavesNoProxyAndNoKey() throws {
        let lab = Hardening.labName("meshkill")
        let file = try Hardening.writeScenario(Self.scenario(lab: lab))
        let child = try Hardening.Child(["run", file])
        defer {
            if child.isRunning {
                child.signal(SIGKILL)
                child.wait()
            }
            _ = Hardening.down(lab)
        }
        let folder = LabMesh.folder(lab: lab)
        let key = "\(folder)/ca-key.pem"
        let reached = child.waitUntil(seconds: 120) { child.stderr.contains("step 2/6 probe") }
        #expect(reached, "never reached step 2; stderr:\n\(child.stderr)")

        // The key: only root reads it, inside a folder only root enters.
        var keyStat = stat()
        var folderStat = stat()
        #expect(stat(key, &keyStat) == 0, "no CA key at \(key) while the run serves")
        #expect(stat(folder, &folderStat) == 0)
        #expect(keyStat.st_mode & 0o777 == 0o600, "CA key mode \(String(keyStat.st_mode & 0o777, radix: 8))")
        #expect(folderStat.st_mode & 0o077 == 0, "CA folder mode \(String(folderStat.st_mode & 0o777, radix: 8))")
        #expect(keyStat.st_uid == 0)
        // The proxy serves inside the lab: its listeners are sockets of the run's own process.
        #expect(Self.processesListening(in: "kc-\(lab).pod.prod.p0", port: 15006) == [child.pid])

        child.signal(SIGKILL)
        _ = child.wait()
        #expect(Self.processesListening(in: "kc-\(lab).pod.prod.p0", port: 15006).isEmpty, "a proxy outlived the run")
        #expect(FileManager.default.fileExists(atPath: key), "the kill should leave the key for down to remove")

        let how = Hardening.down(lab)
        #expect(!FileManager.default.fileExists(atPath: key), "after \(how) the CA key is still there")
        #expect(!FileManager.default.fileExists(atPath: folder))
        let after = Hardening.traces(lab: lab, marker: nil)
        #expect(after.isEmpty, "after \(how): \(after)")
    }

    /// The pids holding a socket that listens on `port` in network namespace `namespace` (read
    /// from /proc: each process's fds against the namespace's listening sockets).
    static func processesListening(in namespace: String, port: UInt16) -> [pid_t] {
        guard FileManager.default.fileExists(atPath: "/run/netns/\(namespace)") else { return [] }
        let listing = Hardening.run("/usr/sbin/ip", ["netns", "exec", namespace, "ss", "-Htlnp", "sport = :\(port)"]).stdout
        var pids: Set<pid_t> = []
        for match in listing.split(separator: "pid=").dropFirst() {
            if let pid = pid_t(match.prefix { $0.isNumber }) { pids.insert(pid) }
        }
        return pids.sorted()
    }
}
