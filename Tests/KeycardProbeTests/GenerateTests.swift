import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// `keycard generate`: least-privilege policies from observed flows, and `--prove`.
@Suite("Generate")
struct GenerateTests {
    static var boutique: String {
        RepositoryFiles.repository.deletingLastPathComponent().appendingPathComponent("shared/conformance/apps/online-boutique").path
    }

    @Test("from lateral-scan's flows: one policy per workload, both directions, exactly the observed peers by label and named port")
    func lateralScanPolicies() throws {
        let timeline = try FlowLogTests.lateralScan()
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let final = timeline.cluster(afterStep: timeline.scenario.steps.count)
        let observed = ObservedFlow.observed(lines, in: final)
        // Scans are not application flows: nothing the exporter scanned is kept, only its DNS.
        #expect(observed.filter { $0.from == ObjectKey("monitoring", "prometheus-exporter") }.allSatisfy { $0.port.port == 53 })
        #expect(
            observed.contains(
                ObservedFlow(from: ObjectKey("shop", "api"), to: ObjectKey("data", "redis-1"), port: ProtocolPort(.tcp, 6379))))
        let generator = PolicyGenerator(timeline)
        let policies = generator.policies(observed)
        #expect(
            policies.map(\.key.description) == [
                "data/keycard-postgres", "data/keycard-redis", "kube-system/keycard-kube-dns", "monitoring/keycard-prometheus",
                "monitoring/keycard-prometheus-exporter", "shop/keycard-api", "shop/keycard-web",
            ])
        let redis = try #require(policies.first { $0.name == "keycard-redis" })
        #expect(redis.policyTypes == [.ingress, .egress])
        #expect(redis.podSelector == LabelSelector(matchLabels: ["app": "redis"]))
        let fromAPI = try #require(redis.ingress?.first { $0.peers?.first?.podSelector?.matchLabels == ["app": "api"] })
        #expect(fromAPI.peers?.first?.namespaceSelector == LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "shop"]))
        #expect(fromAPI.ports == [NetworkPolicy.Port(proto: .tcp, port: .name("redis"))])

        // The model of the generated policies allows exactly the observed flows among served ports.
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: policies)
        let cells = GeneratedPolicyProof.cells(cluster, observed: observed, generator: generator)
        #expect(cells.allSatisfy { $0.expectedOutcome.decision == $0.verdict.decision })

        // The YAML reads back through keycard's own decoder as the same policies.
        let yaml = PolicyYAML.render(policies, header: "test")
        let folder = NSTemporaryDirectory() + "keycard-generate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try yaml.write(toFile: folder + "/policies.yaml", atomically: true, encoding: .utf8)
        let namespaces = ["data", "kube-system", "monitoring", "shop"].map { "{apiVersion: v1, kind: Namespace, metadata: {name: \($0)}}" }
        try (namespaces.joined(separator: "\n---\n") + "\n").write(toFile: folder + "/namespaces.yaml", atomically: true, encoding: .utf8)
        let read = try ManifestLoader.timeline([folder], dns: false)
        #expect(read.initial.policies.values.sorted { $0.key < $1.key }.map(Self.normalized) == policies.map(Self.normalized))
    }

    @Test("answered ICMP probes are named as flows no generated policy allows (a NetworkPolicy port has no ICMP)")
    func answeredPingsAreNamed() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/icmp.yaml"))
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let pings = ObservedFlow.icmp(lines, in: timeline.cluster(afterStep: timeline.scenario.steps.count))
        #expect(!pings.isEmpty)
        #expect(pings.allSatisfy { $0.hasSuffix(" ICMP") }, "\(pings)")
        #expect(pings == pings.sorted() && Set(pings).count == pings.count)
        // Only ports TCP, UDP and SCTP become observed flows, so no policy names ICMP.
        #expect(ObservedFlow.observed(lines, in: timeline.cluster(afterStep: 0)).allSatisfy { $0.port.proto != .icmp })
        // Every ICMP flow named was answered: a FORWARDED probe cell the kernel let through.
        let answered = lines.filter {
            $0.flow.l4.ICMPv4 != nil && $0.flow.verdict == "FORWARDED" && $0.flow.extensions?.value.observed == "allow"
        }
        #expect(!answered.isEmpty)
    }

    @Test("ambient pods: a flow the mesh tunnels is allowed on TCP/15008 beside its port, and the model with the mesh keeps it")
    func ambientFlowsAllowHBONE() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: generate-ambient}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: plain}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: amb, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: amb, labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: job, namespace: plain, labels: {app: job}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - name: all
                  probe: {from: [amb/web], to: [amb/db], ports: [TCP/5432]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "generate-ambient.yaml")
        let cluster = timeline.cluster(afterStep: 1)
        let meshed = ObservedFlow(from: ObjectKey("amb", "web"), to: ObjectKey("amb", "db"), port: ProtocolPort(.tcp, 5432))
        let outside = ObservedFlow(from: ObjectKey("plain", "job"), to: ObjectKey("amb", "web"), port: ProtocolPort(.tcp, 8080))
        let policies = PolicyGenerator(timeline).policies([meshed, outside])
        let db = try #require(policies.first { $0.name == "keycard-db" })
        #expect(
            db.ingress?.first?.ports == [
                NetworkPolicy.Port(proto: .tcp, port: .number(5432)), NetworkPolicy.Port(proto: .tcp, port: .number(15008)),
            ])
        let web = try #require(policies.first { $0.name == "keycard-web" })
        #expect(web.egress?.first?.ports?.contains(NetworkPolicy.Port(proto: .tcp, port: .number(15008))) == true)
        // A caller outside the mesh reaches the application port itself: no HBONE port for it.
        #expect(web.ingress?.first?.ports == [NetworkPolicy.Port(proto: .tcp, port: .number(8080))])

        // With the generated policies the model, judging the HBONE hop, keeps exactly the flows.
        var proved = cluster
        proved.policies = Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) })
        let engine = PolicyEngine(proved)
        let mesh = MeshEngine(proved)
        for flow in [meshed, outside] {
            let verdict = mesh.evaluate(from: flow.from, to: .pod(flow.to), port: flow.port)
            #expect(engine.evaluate(fromSource: flow.from, to: .pod(flow.to), port: flow.port, mesh: verdict).decision == .allow)
        }
        let reverse = mesh.evaluate(from: meshed.to, to: .pod(meshed.from), port: ProtocolPort(.tcp, 8080))
        #expect(
            engine.evaluate(fromSource: meshed.to, to: .pod(meshed.from), port: ProtocolPort(.tcp, 8080), mesh: reverse).decision == .deny)
    }

    /// Three pods, a Service sending port 80 to `demo`'s 8080, which no pod declares, and one
    /// probe from `client` to it.
    static let targetPort = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: generate-target-port}
        spec:
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: demo, namespace: default, labels: {app: demo}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: default, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: other, namespace: default, labels: {app: other}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: demo, namespace: default}, spec: {selector: {app: demo}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [default/client], to: [default/demo], ports: [TCP/8080]}
        """

    @Test("an observed flow to a Service's target port no pod declares is a proof cell, and the summary counts observed flows proven")
    func observedFlowsToUndeclaredTargetPortsAreCells() throws {
        let text = Self.targetPort
        let timeline = try ScenarioLoader.parseTimeline(text, file: "generate-target-port.yaml")
        let demo = ObjectKey("default", "demo")
        let client = ObjectKey("default", "client")
        let flow = ObservedFlow(from: client, to: demo, port: ProtocolPort(.tcp, 8080))
        // The flow a run saw of a pod declaring no port; a pod gone by the last step saw one too.
        let gone = ObservedFlow(from: client, to: ObjectKey("default", "gone"), port: ProtocolPort(.tcp, 80))
        let observed: Set<ObservedFlow> = [flow, gone]
        let final = timeline.cluster(afterStep: 1)
        #expect(final.serviceTargetPorts(of: demo)[demo] == [ProtocolPort(.tcp, 8080)])
        let generator = PolicyGenerator(timeline)
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: generator.policies(observed))
        let cells = GeneratedPolicyProof.cells(cluster, observed: observed, generator: generator)
        // No pod declares a port: the observed flow is the only cell, expected and modelled open.
        #expect(cells.map { "\($0.from) -> \($0.to) \($0.port)" } == ["default/client -> default/demo TCP/8080"])
        let cell = try #require(cells.first)
        #expect(cell.expected == .explicit(.allow) && cell.verdict.decision == .allow)

        // The summary claims every observed flow passes only when each was sent and passed.
        let passed = [cell.result(observed: .allow, attempts: 1)]
        #expect(
            GeneratedPolicyProof.coverage([flow], passed) == GeneratedPolicyProof.Coverage(observed: 1, proven: 1))
        #expect(
            GeneratedPolicyProof.summary(passed, observed: [flow], generator: generator)
                == "proof: 1 cell, 1 allowed (1 observed flow), 0 denied: every observed flow passes, the rest is denied")
        let partial = GeneratedPolicyProof.summary(passed, observed: observed, generator: generator)
        #expect(GeneratedPolicyProof.coverage(observed, passed) == GeneratedPolicyProof.Coverage(observed: 2, proven: 1, unprobed: 1))
        #expect(!partial.contains("every observed flow passes"), "\(partial)")
        #expect(
            partial.hasSuffix(
                ": 1 of 2 observed flows pass with packets, the other cells are denied; 1 not probed (a pod of it is gone by the last step): not proven with packets"
            ), "\(partial)")
        let skipped = [cell.result(observed: .skipped, attempts: 0, reason: "a real program's UDP port: judged by the model")]
        let judged = GeneratedPolicyProof.summary(skipped, observed: [flow], generator: generator)
        #expect(GeneratedPolicyProof.coverage([flow], skipped) == GeneratedPolicyProof.Coverage(observed: 1, modelOnly: 1))
        #expect(judged.contains("0 of 1 observed flow pass with packets") && judged.contains("1 judged by the model only"), "\(judged)")
        // A failed cell: no verdict line, the wrong cells follow it.
        let denied = [cell.result(observed: .deny, attempts: 1)]
        #expect(GeneratedPolicyProof.coverage([flow], denied) == GeneratedPolicyProof.Coverage(observed: 1, failed: 1))
        #expect(!GeneratedPolicyProof.summary(denied, observed: [flow], generator: generator).contains("passes"))
    }

    /// The policy as the API server's defaulting leaves it (decoded policies remember how they were written).
    static func normalized(_ policy: NetworkPolicy) -> [String] {
        [
            policy.key.description, policy.podSelector.description, "\(policy.effectivePolicyTypes.sorted { $0.rawValue < $1.rawValue })",
            "\(policy.ingress ?? [])", "\(policy.egress ?? [])",
        ]
    }

    @Test(
        "workloads: selectors by stable labels, never pod-template-hash",
        .enabled(if: FileManager.default.fileExists(atPath: boutique), "no ../shared beside this checkout"))
    func boutiqueSelectors() throws {
        let timeline = try ManifestLoader.timeline([Self.boutique])
        let final = timeline.cluster(afterStep: timeline.scenario.steps.count)
        #expect(final.pods.values.contains { $0.labels["pod-template-hash"] != nil })
        var flows: Set<ObservedFlow> = []
        for pod in final.sortedPods {
            for peer in final.sortedPods where peer.key != pod.key {
                for port in peer.ports {
                    flows.insert(ObservedFlow(from: pod.key, to: peer.key, port: ProtocolPort(port.proto, port.port)))
                }
            }
        }
        let policies = PolicyGenerator(timeline).policies(flows)
        let selectors =
            policies.map(\.podSelector)
            + policies.flatMap { ($0.ingress ?? []) + ($0.egress ?? []) }.flatMap { $0.peers ?? [] }.compactMap(\.podSelector)
        #expect(!selectors.isEmpty && selectors.allSatisfy { $0.matchLabels["pod-template-hash"] == nil && !$0.matchLabels.isEmpty })
        #expect(policies.contains { $0.name == "keycard-frontend" })
    }
}

/// `keycard generate --prove` with real packets (as root).
@Suite("Generate, proven", .serialized)
struct GenerateKernelTests {
    static func write(_ timeline: Timeline) throws -> String {
        let text = try String(contentsOfFile: RepositoryFiles.absolute("scenarios/lateral-scan.yaml"), encoding: .utf8)
        let cut = try #require(text.range(of: "    # Layer two"))
        // A unique lab name: the run builds a lab of the scenario's name.
        let name = ScenarioLibrary.uniqueLabName()
        let path = NSTemporaryDirectory() + "\(name).yaml"
        try String(text[..<cut.lowerBound]).replacingOccurrences(of: "name: lateral-scan", with: "name: \(name)")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("lateral-scan: generate --prove runs it, generates, and proves every observed flow kept and the rest denied")
    func lateralScan() throws {
        let path = try Self.write(try FlowLogTests.lateralScan())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = path + ".policies.yaml"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try KeycardBinary.run(["generate", path, "-o", out, "--prove"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("every observed flow passes, the rest is denied"))
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("name: \"keycard-redis\"") && !yaml.contains("pod-template-hash"))

        // A flow log that saw the API reach only redis-0: the label both Redis pods share cannot
        // tell them apart, so the policies allow api → redis-1 too, and the proof expects that
        // (one cell between pods no stable label tells apart), confirmed by packets.
        let flows = path + ".flows.jsonl"
        defer { try? FileManager.default.removeItem(atPath: flows) }
        let run = try KeycardBinary.run(["run", path, "--flows", flows])
        #expect(run.status == 0, "\(run.stderr)")
        let kept = try String(contentsOfFile: flows, encoding: .utf8).split(separator: "\n").filter {
            !$0.contains("\"pod_name\":\"redis-1\"")
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: flows, atomically: true, encoding: .utf8)
        let partial = try KeycardBinary.run(["generate", path, "--flows", flows, "-o", out, "--prove"])
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(
            partial.stderr.contains("21 allowed (17 observed flows, and 4 cells between pods no stable label tells apart from theirs)"),
            "\(partial.stderr)")
        let lab = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns"))?.filter { $0.hasPrefix("kc-\(lab)-proof") }.isEmpty ?? true
        )
    }

    @Test(
        "Online Boutique: generate --prove passes",
        .enabled(if: FileManager.default.fileExists(atPath: GenerateTests.boutique), "no ../shared beside this checkout"))
    func boutique() throws {
        let out = NSTemporaryDirectory() + "keycard-boutique-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try KeycardBinary.run(["generate", GenerateTests.boutique, "-o", out, "--prove"])
        #expect(result.status == 0, "\(result.stderr)")
        // One a workload; none for the cluster DNS pod keycard runs (it stands for CoreDNS: a
        // policy isolating it would cut the cluster's DNS off its API server and upstreams).
        #expect(result.stderr.contains("generated 12 policies"), "\(result.stderr)")
        #expect(result.stderr.contains("every observed flow passes, the rest is denied"))
        let written = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!written.contains("namespace: \"kube-system\""), "\(written)")
        #expect(written.contains("\"k8s-app\": \"kube-dns\""), "clients keep their egress to DNS")
    }

    static var eksAdvanced: String {
        RepositoryFiles.repository.deletingLastPathComponent().appendingPathComponent(
            "shared/conformance/apps/eks-netpol-walkthrough/upstream/advanced/manifests"
        ).path
    }

    @Test(
        "EKS walkthrough: observed flows to a Service target port no pod declares, and DNS, are proven with packets",
        .enabled(if: FileManager.default.fileExists(atPath: eksAdvanced), "no ../shared beside this checkout"))
    func undeclaredTargetPortsAreProven() throws {
        let out = NSTemporaryDirectory() + "keycard-eks-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let lab = ScenarioLibrary.uniqueLabName()
        let result = try KeycardBinary.run(["generate", Self.eksAdvanced, "--lab", lab, "-o", out, "--prove"])
        #expect(result.status == 0, "\(result.stderr)")
        // No pod declares a port: before, the proof sent none of the clients' flows to demo-app
        // TCP/80 and judged DNS by the model, yet said every observed flow passed.
        #expect(result.stderr.contains("allowed (9 observed flows"), "\(result.stderr)")
        #expect(result.stderr.contains("every observed flow passes, the rest is denied"), "\(result.stderr)")
        #expect(!result.stderr.contains("judged by the model only"), "\(result.stderr)")
    }

    @Test("a workload no flow names is isolated both ways with no rule; a hostNetwork pod gets no policy")
    func unobservedWorkloadsAreIsolated() throws {
        let timeline = try FlowLogTests.lateralScan()
        let final = timeline.cluster(afterStep: timeline.scenario.steps.count)
        let web = try #require(final.pods[ObjectKey("shop", "web")])
        let redis = try #require(final.pods[ObjectKey("data", "redis-0")])
        // Only web -> redis-0 was seen: every other workload still gets a policy, without rules.
        let seen: Set<ObservedFlow> = [ObservedFlow(from: web.key, to: redis.key, port: ProtocolPort(.tcp, 6379))]
        let policies = PolicyGenerator(timeline).policies(seen)
        let groups = Set(
            final.sortedPods.filter { !$0.hostNetwork && $0.key != ClusterDNS.podKey }.map { pod in
                "\(pod.namespace) \(pod.labels.filter { !PolicyGenerator.unstableLabels.contains($0.key) }.sorted { $0.key < $1.key })"
            })
        #expect(policies.count == groups.count && groups.count > 2)
        let postgres = try #require(policies.first { $0.name == "keycard-postgres" })
        #expect(postgres.policyTypes == [.ingress, .egress])
        #expect(postgres.ingress == [] && postgres.egress == [])
        // The cluster DNS pod keycard runs stands for the cluster's own: no policy when no flow names it.
        let dns = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/cluster-dns.yaml"))
        let dnsFinal = dns.cluster(afterStep: dns.scenario.steps.count)
        #expect(dnsFinal.pods[ClusterDNS.podKey] != nil)
        #expect(!PolicyGenerator(dns).policies([]).contains { $0.namespace == ClusterDNS.podKey.namespace })
        let redisPolicy = try #require(policies.first { $0.name == "keycard-redis" })
        #expect(redisPolicy.ingress?.count == 1 && redisPolicy.egress == [])
    }

    @Test("pods no stable label tells apart share their flows: the proof expects them open, as the generated policies make them")
    func podsNoLabelTellsApartShareTheirFlows() throws {
        let timeline = try FlowLogTests.lateralScan()
        let final = timeline.cluster(afterStep: timeline.scenario.steps.count)
        let web = ObjectKey("shop", "web")
        let redis6379 = ProtocolPort(.tcp, 6379)
        let seen: Set<ObservedFlow> = [ObservedFlow(from: web, to: ObjectKey("data", "redis-0"), port: redis6379)]
        let generator = PolicyGenerator(timeline)
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: generator.policies(seen))
        let cells = GeneratedPolicyProof.cells(cluster, observed: seen, generator: generator)
        // redis-1 differs from redis-0 only by labels a controller stamps per pod: one peer to web.
        let toRedis1 = try #require(cells.first { $0.from == web && $0.to == .pod(ObjectKey("data", "redis-1")) && $0.port == redis6379 })
        #expect(toRedis1.expected == .explicit(.allow))
        let fromAPI = try #require(cells.first { $0.from == ObjectKey("shop", "api") && $0.to == .pod(ObjectKey("data", "redis-0")) })
        #expect(fromAPI.expected == .explicit(.deny))
        #expect(cells.allSatisfy { $0.expectedOutcome.decision == $0.verdict.decision })
        // One such cell is "1 cell" in the proof's summary (was: "1 cells").
        let results = cells.map { cell in cell.result(observed: cell.verdict.decision == .allow ? Observation.allow : .deny, attempts: 1) }
        let summary = GeneratedPolicyProof.summary(results, observed: seen, generator: generator)
        #expect(summary.contains("(1 observed flow, and 1 cell between pods no stable label tells apart from theirs)"), "\(summary)")
    }

    @Test("a flow log of another scenario, or one without keycard's facts (Hubble's own), is refused, exit 2")
    func flowLogOfAnotherScenario() throws {
        let (_, lines) = try FlowLogTests.flows(try FlowLogTests.lateralScan()) { ModelProbeRunner(cluster: $0) }
        let path = NSTemporaryDirectory() + "keycard-other-flows-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let encoder = JSONEncoder()
        let text = try lines.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let staged = RepositoryFiles.absolute("scenarios/staged-policies.yaml")
        let other = try KeycardBinary.run(["generate", staged, "--flows", path])
        #expect(other.status == 2)
        #expect(other.stderr.contains("\(path):1:1: this flow is of scenario lateral-scan, not staged-policies"), "\(other.stderr)")
        #expect(other.stdout.isEmpty)
        var bare = lines
        for index in bare.indices { bare[index].flow.extensions = nil }
        let hubble = try bare.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try hubble.write(toFile: path, atomically: true, encoding: .utf8)
        let plain = try KeycardBinary.run(["generate", staged, "--flows", path])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("no line carries keycard's facts"), "\(plain.stderr)")
    }

    /// lateral-scan's scenario (`FlowLogTests.lateralScanFile`), its timeline and the flow log
    /// its model writes.
    static func lateralScanFlows() throws -> (path: String, timeline: Timeline, lines: [HubbleFlowLine]) {
        let path = try FlowLogTests.lateralScanFile()
        let timeline = try ScenarioLoader.timeline(path)
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        return (path, timeline, lines)
    }

    @Test("a flow line whose port no NetworkPolicy can name, or that names a pod the scenario never has, is refused with its line, exit 2")
    func flowLinesGenerateWouldMisreadAreRefused() throws {
        let (scenario, _, lines) = try Self.lateralScanFlows()
        let path = scenario + ".flows.jsonl"
        defer {
            try? FileManager.default.removeItem(atPath: scenario)
            try? FileManager.default.removeItem(atPath: path)
        }
        let index = try #require(
            lines.firstIndex { $0.flow.verdict == "FORWARDED" && $0.flow.l4.TCP != nil && $0.flow.extensions?.value.observed == "allow" })
        let encoder = JSONEncoder()
        func generate(_ edit: (inout HubbleFlowLine) -> Void) throws -> KeycardBinary.Result {
            var edited = lines
            edit(&edited[index])
            let text = try edited.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try KeycardBinary.run(["generate", scenario, "--flows", path])
        }
        let untouched = try generate { _ in }
        #expect(untouched.status == 0, "\(untouched.stderr)")
        #expect(untouched.stdout.contains("kind: NetworkPolicy"), "\(untouched.stdout)")
        for port in [0, -80, 99999] {
            let result = try generate { $0.flow.l4.TCP?.destination_port = port }
            #expect(result.status == 2)
            #expect(
                result.stderr.contains(
                    "\(path):\(index + 1):1: not a keycard flow line: flow.l4.TCP.destination_port \(port) is not a port (1-65535)"),
                "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let unknown = try generate { $0.flow.source.pod_name = "zz" }
        #expect(unknown.status == 2)
        #expect(
            unknown.stderr.contains(
                "\(path):\(index + 1):1: this flow names pod \(lines[index].flow.source.namespace ?? "")/zz, which scenario lateral-scan never has"
            ),
            "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)
    }

    @Test("every field generate reads is checked: verdict, addresses, one protocol, ports, kind, step; a real log passes")
    func flowLineCheckReadsEveryField() throws {
        let (scenario, timeline, lines) = try Self.lateralScanFlows()
        try? FileManager.default.removeItem(atPath: scenario)
        let check = FlowLineCheck(timeline)
        #expect(lines.allSatisfy { check.problem($0) == nil })
        let targetPort = try ScenarioLoader.parseTimeline(GenerateTests.targetPort, file: "generate-target-port.yaml")
        let targetPortCheck = FlowLineCheck(targetPort)
        #expect(try FlowLogTests.flows(targetPort) { ModelProbeRunner(cluster: $0) }.1.allSatisfy { targetPortCheck.problem($0) == nil })
        let line = try #require(lines.first { $0.flow.l4.TCP != nil && $0.flow.extensions != nil && $0.flow.destination.podKey != nil })
        func problem(_ edit: (inout HubbleFlowLine) -> Void) -> FlowLineCheck.Problem? {
            var edited = line
            edit(&edited)
            return check.problem(edited)
        }
        #expect(problem { $0.flow.verdict = "MAYBE" } == .invalid("flow.verdict MAYBE is not FORWARDED, DROPPED or AUDIT"))
        #expect(problem { $0.flow.IP.destination = "10.0.0.300" } == .invalid("flow.IP.destination 10.0.0.300 is not an IPv4 address"))
        #expect(problem { $0.flow.l4.TCP = nil } == .invalid("flow.l4 must hold exactly one of TCP, UDP, SCTP and ICMPv4"))
        let udp = try JSONDecoder().decode(HubbleFlow.Ports.self, from: Data("{\"destination_port\": 53}".utf8))
        #expect(problem { $0.flow.l4.UDP = udp } == .invalid("flow.l4 must hold exactly one of TCP, UDP, SCTP and ICMPv4"))
        #expect(problem { $0.flow.l4.TCP?.source_port = 70000 } == .invalid("flow.l4.TCP.source_port 70000 is not a port number (0-65535)"))
        #expect(
            problem { $0.flow.extensions?.value.kind = "guess" }
                == .invalid("flow.extensions.value.kind guess is not probe, scan, dns or traffic"))
        #expect(
            problem { $0.flow.extensions?.value.step = 99 }
                == .invalid("flow.extensions.value.step 99 is no step of scenario lateral-scan (0-\(timeline.scenario.steps.count))"))
        #expect(
            problem { $0.flow.extensions?.value.applicationPort = 65536 }
                == .invalid("flow.extensions.value.applicationPort 65536 is not a port (1-65535)"))
        #expect(
            problem { $0.flow.extensions?.value.hostNetworkSource = "nobody" }
                == .invalid("flow.extensions.value.hostNetworkSource nobody is not namespace/name"))
        #expect(problem { $0.flow.extensions?.value.hostNetworkDestination = "default/gone" } == .unknownPod(ObjectKey("default", "gone")))
        #expect(
            problem {
                $0.flow.source.namespace = nil
                $0.flow.source.pod_name = "zz"
            } == .invalid("flow.source.pod_name zz has no flow.source.namespace"))
        let destination = try #require(line.flow.destination.pod_name)
        #expect(problem { $0.flow.destination.namespace = "elsewhere" } == .unknownPod(ObjectKey("elsewhere", destination)))
    }

    @Test("a flow log that is not one is refused with its line, exit 2")
    func badFlowFile() throws {
        let path = NSTemporaryDirectory() + "keycard-bad-flows-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"flow\": 1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try KeycardBinary.run(["generate", RepositoryFiles.absolute("scenarios/staged-policies.yaml"), "--flows", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):1:1: not a keycard flow line"))
    }
}
