import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Synchronization
import Testing

/// Cluster DNS for real, as root: dnsmasq in the kube-system/kube-dns-0 namespace answers glibc's
/// resolver, programs started by `command:` resolve through it with the search path, each step's
/// records reach it, and tear-down leaves no dnsmasq behind.
@Suite("Cluster DNS in the kernel", .serialized)
struct ClusterDNSKernelTests {
    /// The start of every scenario here: lab `lab` with cluster DNS and namespace `x`, the
    /// resources list open for more items.
    static func head(_ lab: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(lab)}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
        """
    }

    /// x/a and x/b; x/client runs `getent hosts` on a short name until it answers.
    static func scenario(_ lab: String) -> String {
        """
        \(Self.head(lab))
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
                - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: x}, spec: {clusterIP: 10.96.0.77, ports: [{port: 80}]}}
            - dns: {from: x/a, name: b}
              expect: [10.96.0.77]
            - delete: [{kind: Pod, namespace: x, name: b}, {kind: Service, namespace: x, name: b}]
            - dns: {from: x/a, name: b}
              expect: nxdomain
            # kubeadm's CoreDNS (`pods insecure`) reads a pod name's address from the name: the
            # deleted pod's name answers, as any address's does in a namespace that exists.
            - dns: {from: x/a, name: 10-244-0-21.x.pod}
              expect: [10.244.0.21]
            - dns: {from: x/a, name: 10-1-2-3.x.pod}
              expect: [10.1.2.3]
            - dns: {from: x/a, name: 10-1-2-3.nowhere.pod.cluster.local}
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

    /// Each dnsPolicy's resolv.conf as the kubelet writes it (`GetPodDNS`): ClusterFirst with
    /// `dnsConfig` appended (its search first tried for a short name, its ndots), None only
    /// `dnsConfig`, Default the node's file as the kubelet parses it with `dnsConfig` appended.
    @Test func resolvConfByDNSPolicy() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let show = "command: [sh, -c], args: ['cat /etc/resolv.conf; exec sleep 600']"
        let text = """
            \(Self.head(lab))
                - {apiVersion: v1, kind: Namespace, metadata: {name: y}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: y, labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: y}, spec: {selector: {app: web}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: ext, namespace: y}, spec: {selector: {app: web}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: ext, namespace: x}, spec: {type: ExternalName, externalName: ext.example.com}}
                - {apiVersion: v1, kind: Pod, metadata: {name: extra, namespace: x}, spec: {dnsConfig: {searches: [y.svc.cluster.local], options: [{name: ndots, value: "1"}, {name: edns0}]}, containers: [{name: c, \(show)}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: own, namespace: x}, spec: {dnsPolicy: None, dnsConfig: {nameservers: [10.96.0.10], searches: [example.test]}, containers: [{name: c, \(show)}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: node, namespace: x}, spec: {dnsPolicy: Default, dnsConfig: {nameservers: [10.96.0.10], searches: [x.svc.cluster.local], options: [{name: ndots, value: "2"}]}, containers: [{name: c, \(show)}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: many, namespace: x}, spec: {dnsConfig: {searches: [a.example, b.example, c.example, d.example, y.svc.cluster.local]}, containers: [{name: c}]}}
              steps:
                - dns: {from: x/extra, name: web}
                # 8 search domains, more than libresolv's state holds: searched name by name.
                - dns: {from: x/many, name: web}
                # x.svc.cluster.local answers a CNAME without an address first: the search stops
                # there (y/ext's ClusterIP is never reached), nxdomain as the model says.
                - dns: {from: x/many, name: ext}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "dns-policy.yaml")
        let service = try #require(timeline.initial.services[ObjectKey("y", "web")]?.clusterIP)
        guard case .dns(let step) = try #require(timeline.scenario.steps.first).action else {
            Issue.record("not a dns step")
            return
        }
        #expect(timeline.dnsModel(step, atStep: 0) == .model(allowed: true, addresses: [service]))
        // The cluster's three, the node's own (none on a machine without a search line), the pod's five.
        let nodeSearches = Timeline.machineResolvConf.searches
        #expect(timeline.resolvConf(of: ObjectKey("x", "many"), atStep: 0).searches.count == 8 + nodeSearches.count)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        func log(_ pod: String) -> String {
            var text = ""
            for _ in 0..<100 {
                text = (try? String(contentsOfFile: LabPaths.log(lab, namespace: "x", pod: pod), encoding: .utf8)) ?? ""
                if text.contains("nameserver") || text.contains("search") || text.contains("options") { break }
                Sleep.milliseconds(100)
            }
            return text
        }
        let server = try #require(timeline.dnsServer(atStep: 0))
        #expect(
            log("extra")
                == "nameserver \(server)\nsearch x.svc.cluster.local svc.cluster.local cluster.local\(nodeSearches.map { " " + $0 }.joined()) y.svc.cluster.local\noptions edns0 ndots:1\n"
        )
        #expect(log("own") == "nameserver 10.96.0.10\nsearch example.test\n")
        let host = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let appended = ResolvConf(nameservers: ["10.96.0.10"], searches: ["x.svc.cluster.local"], options: ["ndots:2"])
        #expect(log("node") == ResolvConf(kubeletParsing: host).appending(appended).fittingKubeletLimits().text)
    }

    /// A `dns` step uses the pod's resolv.conf alone: with `use-vc` (and `timeout:1`,
    /// `attempts:1`) glibc asks over TCP, so an egress rule allowing only TCP/53 answers and one
    /// allowing only UDP/53 drops it, as the model says (the query had always gone over UDP, the
    /// pod's options dropped and the machine's kept). The SYN retries of the pod's namespace are
    /// lowered for the query only, and restored.
    @Test func useVCAsksOverTCP() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        func policy(_ proto: String) -> String {
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: dns-only, namespace: x}, spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: \(proto), port: 53}]}]}}"
        }
        let text = """
            \(Self.head(lab))
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: x, labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: x}, spec: {selector: {app: web}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: vc, namespace: x, labels: {app: client}}, spec: {dnsConfig: {options: [{name: use-vc}, {name: timeout, value: "1"}, {name: attempts, value: "1"}]}, containers: [{name: c}]}}
                - \(policy("TCP"))
              steps:
                - dns: {from: x/vc, name: web}
                - apply: [\(policy("UDP"))]
                - dns: {from: x/vc, name: web}
                  expect: blocked
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "use-vc.yaml")
        let service = try #require(timeline.initial.services[ObjectKey("x", "web")]?.clusterIP)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        let observed = report.steps.compactMap { step -> DNSAnswer? in
            if case .dns(let result) = step.results?.first { return result.observed }
            return nil
        }
        #expect(observed == [.addresses([service]), .blocked])
        let vc = try #require(run.lab?.plan.pods.first { $0.key == "x/vc" })
        #expect(try Sysctl.read("net/ipv4/tcp_syn_retries", inNamespace: vc.netns) == "6")
    }

    /// A headless Service with 30 ready pods: dnsmasq's UDP answer for `big` is truncated (TC, 508 of
    /// 521 bytes) and glibc asks again over TCP/53, as it does against CoreDNS. With an egress rule
    /// allowing only UDP/53 the lookup fails, as the model says: `big`'s search stops there and
    /// the name as written is NXDOMAIN, `big.a.svc.cluster.local.` is `blocked` (within a few
    /// seconds: the SYN retries are lowered for every query); an `edns0` resolver offers 1200 bytes and is
    /// answered over UDP; with TCP/53 allowed too, every address comes back (the query had
    /// returned 29 of them, glibc's TCP answer read into a 4096-byte buffer being enough then, but
    /// the TCP try hanging for minutes when dropped). The DNS pod's `metrics` TCP/9153 answers a
    /// handshake, so a scrape rule is proved.
    @Test func truncatedAnswersAskAgainOverTCP() throws {
        for (ports, passes) in [("{protocol: UDP, port: 53}", "udp"), ("{protocol: UDP, port: 53}, {protocol: TCP, port: 53}", "both")] {
            let lab = ScenarioLibrary.uniqueLabName()
            let text = DNSTruncationScenario.text(
                lab: lab, ports: ports, resolverOptions: ["{name: timeout, value: \"1\"}", "{name: attempts, value: \"1\"}"],
                extraResources: [
                    "{apiVersion: v1, kind: Pod, metadata: {name: prometheus, namespace: a}, spec: {containers: [{name: c, image: i}]}}"
                ],
                steps: [
                    "- dns: {from: a/client, name: big}", "- dns: {from: a/edns, name: big}",
                    "- dns: {from: a/client, name: big.a.svc.cluster.local.}",
                    "- probe: {from: [a/prometheus, a/client], to: [kube-system/kube-dns-0], ports: [TCP/9153]}",
                ])
            let timeline = try ScenarioLoader.parseTimeline(text, file: "dns-truncation.yaml")
            let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
            defer { run.tearDown() }
            let clock = ContinuousClock()
            let start = clock.now
            let report = try run.execute()
            #expect(report.passed, "\(passes): \(ScenarioLibrary.failures(report).joined(separator: "\n"))")
            let results = report.steps.compactMap { step -> DNSResult? in
                if case .dns(let result) = step.results?.first { return result }
                return nil
            }
            let addresses: Int? = {
                if case .addresses(let list)? = results.first?.observed { return list.count }
                return nil
            }()
            #expect(passes == "udp" ? results.first?.observed == .notFound : addresses == 30, "\(passes): \(results)")
            #expect(results.first?.truncated == true)
            if case .addresses(let list)? = results[1].observed {
                #expect(list.count == 30)
            } else {
                Issue.record("edns0: \(String(describing: results[1].observed))")
            }
            if passes == "udp" { #expect(results.last?.observed == .blocked) }
            #expect(clock.now - start < .seconds(60), "\(passes)")
            let probes = report.steps.flatMap { $0.results ?? [] }.compactMap { record -> ProbeResult? in
                if case .probe(let cell) = record { return cell }
                return nil
            }
            // prometheus reaches the metrics port; the client's egress allows only DNS.
            #expect(
                probes.map { "\($0.from) \($0.observed.map(\.rawValue) ?? "-")" }.sorted() == ["a/client deny", "a/prometheus allow"],
                "\(probes)")
            if passes == "udp" {
                let dnsPod = try #require(run.lab?.plan.pods.first { $0.key == ClusterDNS.podKey.description })
                let log = try String(contentsOfFile: LabPaths.log(lab, namespace: dnsPod.namespace, pod: dnsPod.name), encoding: .utf8)
                #expect(log.contains("query[A] big.a.svc.cluster.local"), "\(log)")
            }
        }
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

    /// ExternalName Services (Kubernetes DNS specification 2.4): `alias` is a CNAME to the ClusterIP
    /// Service `web`, `chain` a CNAME to `alias`, `stripe` a CNAME to a name outside the cluster.
    static func externalNameScenario(_ lab: String) -> String {
        """
        \(Self.head(lab))
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}, status: {podIP: 10.244.0.20}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: x}, spec: {clusterIP: 10.96.0.50, selector: {app: a}, ports: [{port: 80}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: alias, namespace: x}, spec: {type: ExternalName, externalName: web.x.svc.cluster.local}}
            - {apiVersion: v1, kind: Service, metadata: {name: chain, namespace: x}, spec: {type: ExternalName, externalName: alias.x.svc.cluster.local.}}
            - {apiVersion: v1, kind: Service, metadata: {name: stripe, namespace: x}, spec: {type: ExternalName, externalName: api.stripe.com}}
          steps:
            - dns: {from: x/a, name: alias.x.svc.cluster.local}
              expect: [10.96.0.50]
            - dns: {from: x/a, name: CHAIN}
              expect: [10.96.0.50]
            - dns: {from: x/a, name: stripe}
              expect: nxdomain
            - apply:
                - {apiVersion: v1, kind: Service, metadata: {name: late, namespace: x}, spec: {type: ExternalName, externalName: chain.x.svc.cluster.local}}
            - dns: {from: x/a, name: late.x}
              expect: [10.96.0.50]
            - delete: [{kind: Service, namespace: x, name: web}]
            - dns: {from: x/a, name: alias}
              expect: nxdomain
            - dns: {from: x/a, name: late}
              expect: nxdomain
        """
    }

    /// The real server answers ExternalName names as the model does: a CNAME to another Service
    /// gets that Service's ClusterIP (through a chain too), a name outside the cluster no address;
    /// CNAMEs added and removed by later steps reach it (dnsmasq restarted with its new
    /// configuration, one server left running and recorded in the lab's state).
    @Test func externalNameAnswersThroughCNAMEs() throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let timeline = try ScenarioLoader.parseTimeline(Self.externalNameScenario(lab), file: "dns-external-name.yaml")
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, keep: true, labName: lab))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        // The last configuration serves only the CNAME still complete: web is gone.
        let config = try String(contentsOfFile: ClusterDNSServer.configFile(lab), encoding: .utf8)
        #expect(config.contains("cname=stripe.x.svc.cluster.local,api.stripe.com\n"))
        #expect(!config.contains("cname=alias."))
        // dnsmasq logged the CNAMEs it answered.
        let plan = try #require(run.lab?.plan)
        let dnsPod = try #require(plan.pods.first { $0.key == ClusterDNS.podKey.description })
        let log = try String(contentsOfFile: LabPaths.log(lab, namespace: dnsPod.namespace, pod: dnsPod.name), encoding: .utf8)
        #expect(log.contains("config alias.x.svc.cluster.local is <CNAME>"), "\(log)")
        #expect(log.contains("config stripe.x.svc.cluster.local is <CNAME>"), "\(log)")
        // Started with no CNAME, then restarted for the first step's three, for `late`, and without web's two.
        #expect(log.components(separatedBy: "started, version").count - 1 == 4, "\(log)")
        // Exactly one server runs, in the DNS pod's namespace, and the state records it.
        let pids = Self.dnsmasqPids(lab: lab)
        #expect(pids.count == 1)
        #expect(pids.first.flatMap(ProcessTable.namespaceInode(of:)) == NetworkNamespace.inode(of: dnsPod.netns))
        let recorded = try #require(LabState.read(lab)?.processes.first { $0.pod == ClusterDNS.podKey.description })
        #expect([recorded.pid] == pids)
        // The resolver stops at the CNAME without an address: no address, no failure (a dns step says nxdomain).
        let server = try #require(plan.dns?.nameserver)
        let a = try #require(plan.pods.first { $0.key == "x/a" })
        let stripe = try DNSQuery(namespace: a.netns, name: "stripe", server: server, search: DNSRecords.searchDomains(namespace: "x"))
            .run()
        #expect(stripe == .noAddress)

        // Two refreshes at once with a new CNAME (as `keycard up` and its lab process do at start):
        // one restarts the server, the other then finds it current; one server is left.
        let records = DNSRecords(timeline.cluster(afterStep: timeline.scenario.steps.count))
        let cnames = records.cnames.merging(["extra.x.svc.cluster.local": "api.example.com"]) { old, _ in old }
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let outcome: String
            do {
                outcome =
                    "\(try ClusterDNSServer.refresh(plan: plan, processes: [], records: records.addresses, cnames: cnames, podNamespaces: records.podNamespaces.sorted()))"
            } catch {
                outcome = "\(error)"
            }
            outcomes.withLock { $0.append(outcome) }
        }
        #expect(outcomes.withLock { $0.sorted() } == ["false", "true"])
        #expect(Self.dnsmasqPids(lab: lab).count == 1)
        let after = try String(contentsOfFile: LabPaths.log(lab, namespace: dnsPod.namespace, pod: dnsPod.name), encoding: .utf8)
        #expect(after.components(separatedBy: "started, version").count - 1 == 5)

        run.tearDown()
        #expect(Self.dnsmasqPids(lab: lab).isEmpty)
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)
    }
}
