import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Cluster DNS for real, as root: dnsmasq in the kube-system/kube-dns-0 namespace answers glibc's
/// resolver, programs started by `command:` resolve through it with the search path, each step's
/// records reach it, and tear-down leaves no dnsmasq behind.
@Suite("Cluster DNS in the kernel", .serialized)
struct ClusterDNSKernelTests {
    /// x/a and x/b; x/client runs `getent hosts` on a short name until it answers.
    static func scenario(_ lab: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(lab)}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}, status: {podIP: 10.244.0.20}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: client, namespace: x}
              spec:
                containers:
                  - name: c
                    command: [sh, -c]
                    args: ["cat /etc/resolv.conf; for i in $(seq 100); do getent hosts 10-244-0-20.x.pod && break; sleep 0.1; done; exec sleep 600"]
          steps:
            - dns: {from: x/a, name: 10-244-0-20.x.pod.cluster.local}
              expect: [10.244.0.20]
            - apply:
                - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x}, spec: {containers: [{name: c}]}, status: {podIP: 10.244.0.21}}
            - dns: {from: x/a, name: 10-244-0-21.x.pod}
              expect: [10.244.0.21]
            - delete: [{kind: Pod, namespace: x, name: b}]
            - dns: {from: x/a, name: 10-244-0-21.x.pod}
              expect: nxdomain
        """
    }

    /// Pids of running dnsmasq processes whose command line names this lab's configuration.
    static func dnsmasqPids(lab: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let argv = String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init)
            return argv.first?.hasSuffix("dnsmasq") == true && argv.contains("--conf-file=\(ClusterDNSServer.configFile(lab))")
        }
    }

    @Test(arguments: Enforcement.allCases)
    func answersRefreshesAndLeavesNothing(_ enforcement: Enforcement) throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(lab), file: "dns-kernel.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        // dnsmasq runs inside the DNS pod's namespace, not the host's.
        let pids = Self.dnsmasqPids(lab: lab)
        #expect(pids.count == 1)
        let dnsNamespace = try #require(run.lab?.plan.pods.first { $0.key == ClusterDNS.podKey.description }?.netns)
        #expect(pids.first.flatMap(ProcessTable.namespaceInode(of:)) == NetworkNamespace.inode(of: dnsNamespace))

        // The command program saw Kubernetes' resolv.conf and resolved a short name through the search path.
        let logPath = LabPaths.log(lab, namespace: "x", pod: "client")
        var log = ""
        for _ in 0..<100 {
            log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if log.contains("10-244-0-20.x.pod.cluster.local") { break }
            Sleep.milliseconds(100)
        }
        let server = try #require(timeline.dnsServer(atStep: 0))
        #expect(log.contains("nameserver \(server)"), "\(log)")
        #expect(log.contains("search x.svc.cluster.local svc.cluster.local cluster.local"), "\(log)")
        #expect(log.contains("options ndots:5"), "\(log)")
        #expect(log.contains("10.244.0.20     10-244-0-20.x.pod.cluster.local"), "\(log)")
        // The host's own resolv.conf is untouched.
        let hostResolv = try String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
        #expect(!hostResolv.contains("cluster.local"))

        run.tearDown()
        #expect(Self.dnsmasqPids(lab: lab).isEmpty)
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: ClusterDNSServer.directory(lab)))
    }

    /// The resolver itself: from a pod of a lab with DNS, a name answers, an unknown name is
    /// nxdomain, and a pod of the lab that cannot route to the server (an external) gets no answer.
    @Test func resolverOutcomes() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(lab), file: "dns-kernel.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
        defer { run.tearDown() }
        _ = try run.execute()
        let plan = try #require(run.lab?.plan)
        let a = try #require(plan.pods.first { $0.key == "x/a" })
        let server = try #require(plan.dns?.nameserver)
        let search = DNSRecords.searchDomains(namespace: "x")
        let found = try DNSQuery(namespace: a.netns, name: "10-244-0-20.x.pod", server: server, search: search).run()
        #expect(found == .answered([IPv4("10.244.0.20")]))
        let missing = try DNSQuery(namespace: a.netns, name: "nope.x.svc.cluster.local.", server: server, search: search).run()
        #expect(missing == .notFound)
        // Nothing listens on 10.244.0.250 (an unused pod address): no answer within the try.
        let silent = try DNSQuery(
            namespace: a.netns, name: "10-244-0-20.x.pod", server: IPv4("10.244.0.250"), search: search, attempts: 1
        ).run()
        if case .noAnswer = silent {} else { Issue.record("expected no answer, got \(silent)") }
    }
}
