import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Cluster DNS as programs started by `command:` see it from their first instruction, as root:
/// every program gets the resolv.conf its dnsPolicy gives it, on the host network too.
@Suite("Cluster DNS for programs at start-up", .serialized)
struct ClusterDNSStartupTests {
    /// The text of pod `namespace/pod`'s log once it holds `marker` (5 s at most).
    static func log(_ lab: String, _ namespace: String, _ pod: String, until marker: String) -> String {
        var text = ""
        for _ in 0..<50 {
            text = (try? String(contentsOfFile: LabPaths.log(lab, namespace: namespace, pod: pod), encoding: .utf8)) ?? ""
            if text.contains(marker) { break }
            Sleep.milliseconds(100)
        }
        return text
    }

    /// A host-network pod with a `command:` gets a resolv.conf as the kubelet writes it
    /// (`getPodDNSType`): ClusterFirst falls back to the node's file, ClusterFirstWithHostNet gets
    /// cluster DNS's. The lab had failed to start: no file was written for a host-network pod.
    @Test func hostNetworkProgramsGetTheResolvConfOfTheirPolicy() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let show = "command: [sh, -c], args: ['cat /etc/resolv.conf; echo END; exec sleep 600']"
        let text = """
            \(ClusterDNSKernelTests.head(lab))
                - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: hn, namespace: x}, spec: {hostNetwork: true, containers: [{name: c, \(show)}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: hw, namespace: x}, spec: {hostNetwork: true, dnsPolicy: ClusterFirstWithHostNet, containers: [{name: c, \(show)}]}}
              steps:
                - dns: {from: x/a, name: kubernetes.default}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "host-network-dns.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        let host = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        #expect(Self.log(lab, "x", "hn", until: "END") == ResolvConf(kubeletParsing: host).fittingKubeletLimits().text + "END\n")
        let server = try #require(timeline.dnsServer(atStep: 0))
        // The node's own search domains follow the cluster's (none on a machine without a search line).
        let node = Timeline.machineResolvConf.searches.map { " " + $0 }.joined()
        #expect(
            Self.log(lab, "x", "hw", until: "END")
                == "nameserver \(server)\nsearch x.svc.cluster.local svc.cluster.local cluster.local\(node)\noptions ndots:5\nEND\n")
    }

    /// A program whose first instruction looks a Service up gets its ClusterIP: the cluster DNS
    /// server, its records and the `kube-dns` ClusterIP's translation are ready before any other
    /// program starts (`LabStartup`), as CoreDNS is up before a cluster's application pods. The
    /// lookup had failed for about 6 s after start-up: the server started last, with no records,
    /// and the ClusterIP was translated only after every program was listening.
    /// The lookup asks for A records only (`getent ahostsv4`): glibc's `getent hosts` sends A and
    /// AAAA in parallel from one socket, and the two datagrams' conntrack entries can race at the
    /// Service's DNAT, losing one (Kubernetes' known "5 s DNS delay"; 10 of 150 node-placement labs
    /// here waited the resolver's 5 s timeout, 0 of 40 with A only). That race is the kernel's,
    /// not the start-up order this test is about.
    @Test(arguments: Enforcement.allCases)
    func aProgramResolvesAServiceOnItsFirstTry(_ enforcement: Enforcement) throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let text = """
            \(ClusterDNSKernelTests.head(lab))
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: x, labels: {app: db}}, spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: db, namespace: x}, spec: {clusterIP: 10.96.0.77, selector: {app: db}, ports: [{port: 5432}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x}, spec: {containers: [{name: c, command: [sh, -c], args: ['a=$(getent ahostsv4 db) || a=MISSING; echo "${a%% *}"; echo END; exec sleep 600']}]}}
              steps:
                - dns: {from: x/db, name: db}
                  expect: [10.96.0.77]
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "first-lookup.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        #expect(Self.log(lab, "x", "client", until: "END") == "10.96.0.77\nEND\n")
    }

    /// `generate --prove` (and `diff --prove`) bring their lab up in the same order: a program
    /// that looks a Service up before it listens finds it. The proof's lab had started its
    /// programs with no Service proxy and no DNS records, so the lookup failed.
    @Test func aProofsProgramResolvesAServiceBeforeItListens() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let seen = NSTemporaryDirectory() + "\(lab)-lookup.txt"
        defer { try? FileManager.default.removeItem(atPath: seen) }
        let redis = "exec redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no"
        let text = """
            \(ClusterDNSKernelTests.head(lab))
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: x, labels: {app: db}}, spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: db, namespace: x}, spec: {clusterIP: 10.96.0.77, selector: {app: db}, ports: [{port: 5432}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x}, spec: {containers: [{name: c, ports: [{containerPort: 6379}], command: [sh, -c], args: ["getent hosts db > \(seen) || echo MISSING > \(seen); \(redis)"]}]}}
              steps:
                - dns: {from: x/db, name: db}
                  expect: [10.96.0.77]
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "proof-lookup.yaml")
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: [])
        _ = try GeneratedPolicyProof.run(timeline, cluster: cluster, cells: [], enforcement: .pod, labName: lab)
        // The program listens only after its lookup, and the proof waits for it to listen.
        #expect((try? String(contentsOfFile: seen, encoding: .utf8)) == "10.96.0.77      db.x.svc.cluster.local\n")
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).contains { $0.hasPrefix("kc-\(lab)") })
    }
}
