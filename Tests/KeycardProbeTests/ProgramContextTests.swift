import Foundation
import Glibc
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTopology
import Testing

/// What a `command:` program gets from the kubelet besides its network: its container's `env`
/// (literal values expanded against earlier ones, Downward API fields), `HOSTNAME`, its pod's host
/// name in a UTS namespace of its own and the kubelet's `/etc/hosts` (`ProgramEnvironment`).
struct ProgramContextTests {
    static func scenario(_ name: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          resources:
            - apiVersion: v1
              kind: Pod
              metadata: {name: db-0, namespace: default, labels: {app: db}}
              spec:
                hostname: db-0
                subdomain: db
                containers:
                  - name: c
                    env:
                      - {name: GREETING, value: hello}
                      - {name: MSG, value: "$(GREETING) from $(POD_NAME) $$(kept) $(HOSTNAME)"}
                      - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                      - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                      - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
                      - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                      - {name: TOKEN, valueFrom: {secretKeyRef: {name: s, key: k}}}
                    command: [sh, -c]
                    args: ["echo \\"$(hostname)|$HOSTNAME|$MSG|$POD_NAME|$POD_IP|$NODE|$APP|${TOKEN:-unset}|$(POD_IP)\\"; grep db-0 /etc/hosts; exec sleep 60"]
            - apiVersion: v1
              kind: Service
              metadata: {name: cache-db, namespace: default}
              spec: {selector: {app: none}, ports: [{name: redis-main, port: 6379}, {name: metrics, port: 9121, protocol: UDP}]}
            - apiVersion: v1
              kind: Service
              metadata: {name: elsewhere, namespace: kube-system}
              spec: {selector: {app: none}, ports: [{port: 80}]}
          steps:
            - probe: {from: [default/db-0], to: [default/db-0], ports: [TCP/80]}
        """
    }

    @Test func theLabSpecCarriesWhatTheKubeletGives() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario("ctx"), file: "ctx.yaml")
        #expect(timeline.warnings.contains { $0.message.contains("env TOKEN comes from secretKeyRef") })
        let spec = LabSpec(timeline)
        let pod = try #require(spec.pods.first { $0.name == "db-0" })
        let ip = try #require(timeline.plan.addresses[ObjectKey("default", "db-0")])
        let cache = try #require(timeline.initial.services[ObjectKey("default", "cache-db")]?.clusterIP)
        // The Service links of its own namespace, as pkg/kubelet/envvars writes them.
        let links = [
            "CACHE_DB_SERVICE_HOST=\(cache)", "CACHE_DB_SERVICE_PORT=6379", "CACHE_DB_SERVICE_PORT_REDIS_MAIN=6379",
            "CACHE_DB_SERVICE_PORT_METRICS=9121", "CACHE_DB_PORT=tcp://\(cache):6379", "CACHE_DB_PORT_6379_TCP=tcp://\(cache):6379",
            "CACHE_DB_PORT_6379_TCP_PROTO=tcp", "CACHE_DB_PORT_6379_TCP_PORT=6379", "CACHE_DB_PORT_6379_TCP_ADDR=\(cache)",
            "CACHE_DB_PORT_9121_UDP=udp://\(cache):9121", "CACHE_DB_PORT_9121_UDP_PROTO=udp", "CACHE_DB_PORT_9121_UDP_PORT=9121",
            "CACHE_DB_PORT_9121_UDP_ADDR=\(cache)",
        ]
        #expect(
            pod.context.environment == ["HOSTNAME=db-0"] + links + [
                "GREETING=hello", "MSG=hello from $(POD_NAME) $(kept) $(HOSTNAME)", "POD_NAME=db-0", "POD_IP=\(ip)", "NODE=node-0",
                "APP=db",
            ])
        #expect(pod.command?.last?.hasSuffix("|\(ip)\"; grep db-0 /etc/hosts; exec sleep 60") == true)
        #expect(pod.context.hostname == "db-0")
        #expect(pod.context.hostsFile?.text(nodeHosts: "").contains("\(ip)\tdb-0.db.default.svc.cluster.local\tdb-0\n") == true)
    }

    @Test func serviceLinksCanBeTurnedOff() throws {
        let text = Self.scenario("ctx").replacingOccurrences(
            of: "        hostname: db-0\n", with: "        hostname: db-0\n        enableServiceLinks: false\n")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "ctx.yaml")
        let pod = try #require(LabSpec(timeline).pods.first { $0.name == "db-0" })
        #expect(!pod.context.environment.contains { $0.hasPrefix("CACHE_DB_") })
        #expect(pod.context.environment.contains("GREETING=hello"))
    }

    /// An Indexed Job's program reads its index (JOB_COMPLETION_INDEX from the pod's annotation);
    /// hostAliases join the hosts file; setHostnameAsFQDN names the host by its FQDN.
    @Test func jobIndexAliasesAndFQDN() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: ctx-job}
            spec:
              resources:
                - apiVersion: batch/v1
                  kind: Job
                  metadata: {name: work}
                  spec:
                    completionMode: Indexed
                    completions: 2
                    parallelism: 2
                    template:
                      spec:
                        restartPolicy: Never
                        subdomain: grp
                        setHostnameAsFQDN: true
                        hostAliases: [{ip: 10.1.2.3, hostnames: [foo.local, bar]}]
                        containers: [{name: c, command: [sh, -c, "echo $JOB_COMPLETION_INDEX"]}]
              steps: []
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "ctx-job.yaml")
        let pods = LabSpec(timeline).pods.filter { $0.name.hasPrefix("work-") }.sorted { $0.name < $1.name }
        #expect(pods.count == 2)
        for (index, pod) in pods.enumerated() {
            #expect(pod.context.environment.contains("JOB_COMPLETION_INDEX=\(index)"), "\(pod.context.environment)")
            #expect(pod.context.hostname == "work-\(index).grp.default.svc.cluster.local")
            #expect(
                pod.context.hostsFile?.text(nodeHosts: "").hasSuffix("# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\n") == true)
        }
    }

    static func hostNetworkScenario(_ name: String, aliases: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          resources:
            - apiVersion: v1
              kind: Pod
              metadata: {name: agent, namespace: default}
              spec:
                hostNetwork: true
                hostAliases: \(aliases)
                containers: [{name: c, command: [sh, -c, "cat /etc/hosts; exec sleep 60"]}]
          steps: []
        """
    }

    /// A host-network pod reads the node's own hosts file under the kubelet's header, with its
    /// `hostAliases` after it (`nodeHostsFileContent`); without aliases the node's file is left.
    @Test func hostNetworkPodsGetTheNodesFileWithTheirAliases() throws {
        let aliased = try ScenarioLoader.parseTimeline(
            Self.hostNetworkScenario("hn", aliases: "[{ip: 10.1.2.3, hostnames: [foo.local, bar]}]"), file: "hn.yaml")
        let pod = try #require(LabSpec(aliased).pods.first { $0.name == "agent" })
        #expect(pod.context.hostsFile == .node(appending: "\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\n"))
        #expect(
            pod.context.hostsFile?.text(nodeHosts: "127.0.0.1\tlocalhost\n")
                == "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\n"
        )
        let plain = try ScenarioLoader.parseTimeline(Self.hostNetworkScenario("hn", aliases: "[]"), file: "hn.yaml")
        #expect(LabSpec(plain).pods.first { $0.name == "agent" }?.context.hostsFile == nil)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func aHostNetworkProgramSeesItsAliases() throws {
        let name = "ctx-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let text = Self.hostNetworkScenario(name, aliases: "[{ip: 10.1.2.3, hostnames: [foo.local]}]")
        let lab = try Lab.up(spec: LabSpec(try ScenarioLoader.parseTimeline(text, file: "hn.yaml")))
        defer { _ = try? Lab.down(name: name) }
        let process = try #require(lab.processes.first)
        var log = ""
        for _ in 0..<200 where !log.contains("foo.local") {
            log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            usleep(10_000)
        }
        let machine = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
        #expect(log == HostsFile.hostNetworkHeader + machine + "\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\n")
        #expect(!machine.contains("foo.local"))
    }

    /// The hosts file never shares a name with a log: pod `hosts/a.b` and pod `a/b.log`.
    @Test func hostsFilesAndLogsNeverCollide() {
        #expect(LabPaths.hostsFile("l", namespace: "hosts", pod: "a.b") != LabPaths.log("l", namespace: "a", pod: "b"))
        #expect(LabPaths.hostsFile("l", namespace: "a", pod: "b.log") != LabPaths.log("l", namespace: "hosts", pod: "a.b"))
        #expect(LabPaths.hostsFile("l", namespace: "a", pod: "b").hasSuffix(".hosts"))
    }

    @Test func hostnamesAreCutAsTheKubeletCutsThem() {
        var pod = Pod(namespace: "x", name: String(repeating: "a", count: 62) + "-b")
        #expect(ProgramEnvironment.hostname(of: pod) == String(repeating: "a", count: 62))
        pod.hostname = "short"
        #expect(ProgramEnvironment.hostname(of: pod) == "short")
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func theProgramSeesItsPod() throws {
        let name = "ctx-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(name), file: "ctx.yaml")
        let lab = try Lab.up(spec: LabSpec(timeline))
        defer { _ = try? Lab.down(name: name) }
        let ip = try #require(timeline.plan.addresses[ObjectKey("default", "db-0")])
        let process = try #require(lab.processes.first)
        var log = ""
        for _ in 0..<200 where !log.contains("svc.cluster.local") {
            log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            usleep(10_000)
        }
        #expect(log.hasPrefix("db-0|db-0|hello from $(POD_NAME) $(kept) $(HOSTNAME)|db-0|\(ip)|node-0|db|unset|\(ip)\n"))
        #expect(log.contains("\(ip)\tdb-0.db.default.svc.cluster.local\tdb-0"))
        // The host's name and hosts file are untouched.
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        #expect(String(cString: buffer) != "db-0")
        let hosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
        #expect(!hosts.contains("db-0.db.default.svc"))
    }
}
