import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// The flow log (docs/flows.md): Hubble's JSON lines from a run's reports, policy attribution, and
/// a public reader — the protobuf JSON parser of Debian's python3-protobuf against Hubble's field
/// names — reading the file unchanged.
@Suite("Flow log")
struct FlowLogTests {
    /// lateral-scan up to its mesh part (the network-policy story: scans before and after, the
    /// legitimate flows, the whole cluster).
    static func lateralScan() throws -> Timeline {
        let path = try lateralScanFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ScenarioLoader.timeline(path)
    }

    /// `lateralScan()`'s scenario written to a new temporary file, whose path it returns (the
    /// caller removes it).
    static func lateralScanFile() throws -> String {
        let text = try String(contentsOfFile: RepositoryFiles.absolute("scenarios/lateral-scan.yaml"), encoding: .utf8)
        guard let cut = text.range(of: "    # Layer two") else { throw FlowTestError("lateral-scan.yaml has no mesh part to cut") }
        let path = NSTemporaryDirectory() + "keycard-flows-\(UUID().uuidString).yaml"
        try String(text[..<cut.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every step's flows, the steps answered by `runner`.
    static func flows(_ timeline: Timeline, runner: (Cluster) -> ProbeRunner) throws -> (Report, [HubbleFlowLine]) {
        let log = FlowLog(scenario: timeline.scenario.name, labName: "flows", nodes: timeline.plan.nodes)
        var steps: [StepReport] = []
        var lines: [HubbleFlowLine] = []
        for step in timeline.scenario.steps {
            let cluster = timeline.cluster(afterStep: step.index)
            let report: StepReport
            switch step.action {
            case .probe: report = try StepEvaluation.probe(step, timeline: timeline, runner: runner(cluster))
            case .scan(let scan): report = try StepEvaluation.scan(step, scan, timeline: timeline, runner: runner(cluster))
            default: continue
            }
            steps.append(report)
            lines += log.flows(of: report, cluster: cluster, time: Date(timeIntervalSince1970: 1_800_000_000))
        }
        return (Report(scenario: timeline.scenario.name, enforcement: .pod, passed: steps.allSatisfy(\.passed), steps: steps), lines)
    }

    static func facts(_ line: HubbleFlowLine) -> KeycardFlowFacts? { line.flow.extensions?.value }

    /// A drop no policy decided (the model's "no path": a ClusterIP under internalTrafficPolicy
    /// Local without an endpoint on the source's node) is the datapath's drop event alone,
    /// `SERVICE_BACKEND_NOT_FOUND`, with no policy verdict and no policy named, dropped by the
    /// source's own datapath: `EGRESS`; it was written as a policy drop on the egress side.
    @Test func aDropNoPolicyDecidedIsNoPolicyDrop() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/internal-traffic-policy.yaml"))
        let (_, lines) = try Self.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let unrouted = lines.filter { $0.flow.drop_reason_desc == "SERVICE_BACKEND_NOT_FOUND" }
        #expect(!unrouted.isEmpty)
        for line in unrouted {
            #expect(line.flow.verdict == "DROPPED" && line.flow.event_type == .init(type: 1, sub_type: 158))
            #expect(line.flow.traffic_direction == "EGRESS" && line.flow.egress_denied_by == nil && line.flow.ingress_denied_by == nil)
        }
        // Every policy drop is still its verdict and its drop event.
        let policyDrops = lines.filter { $0.flow.drop_reason_desc == "POLICY_DENIED" }
        #expect(policyDrops.filter { $0.flow.event_type.type == 5 }.count == policyDrops.filter { $0.flow.event_type.type == 1 }.count)
    }

    @Test("model flows: the scan after is DROPPED by the exporter's isolating policies, API to Redis FORWARDED by its rules")
    func modelFlows() throws {
        let (report, lines) = try Self.flows(Self.lateralScan()) { ModelProbeRunner(cluster: $0) }
        #expect(report.passed)
        let scanAfter = lines.filter { Self.facts($0)?.stepName == "scan after (zero trust)" }
        #expect(!scanAfter.isEmpty)
        // Each dropped target is two events, as Cilium reports a policy drop: its policy verdict
        // (type 5, with the policies) and the drop (type 1, sub-type 133, none: Hubble correlates
        // policies on policy verdicts only).
        #expect(scanAfter.map(\.flow.event_type.type) == Array(repeating: [5, 1], count: scanAfter.count / 2).flatMap { $0 })
        for line in scanAfter {
            #expect(line.flow.verdict == "DROPPED")
            #expect(line.flow.drop_reason_desc == "POLICY_DENIED")
            #expect(line.flow.traffic_direction == "EGRESS")
            #expect(line.flow.source.pod_name == "prometheus-exporter")
            let verdictEvent = line.flow.event_type.type == 5
            #expect(line.flow.event_type.sub_type == (verdictEvent ? nil : 133))
            #expect(line.flow.is_reply == nil)
            #expect(
                line.flow.egress_denied_by
                    == (verdictEvent
                        ? [
                            HubbleFlow.Policy(name: "allow-dns", namespace: "monitoring"),
                            HubbleFlow.Policy(name: "default-deny-all", namespace: "monitoring"),
                        ] : nil))
        }
        let redis = lines.filter {
            Self.facts($0)?.stepName == "legitimate flows after" && $0.flow.source.pod_name == "api"
                && $0.flow.destination.pod_name == "redis-0" && $0.flow.l4.TCP?.destination_port == 6379
        }
        // Both sides enforce policy: the source's egress verdict, then the destination's ingress
        // verdict, each with its own direction's policies.
        #expect(redis.map(\.flow.traffic_direction) == ["EGRESS", "INGRESS"])
        let egress = try #require(redis.first).flow
        #expect(egress.egress_allowed_by == [HubbleFlow.Policy(name: "api-to-redis", namespace: "shop")])
        #expect(egress.ingress_allowed_by == nil)
        let flow = try #require(redis.last).flow
        #expect(flow.verdict == "FORWARDED")
        #expect(flow.egress_allowed_by == nil)
        #expect(flow.ingress_allowed_by == [HubbleFlow.Policy(name: "redis-from-api", namespace: "data")])
        #expect(
            flow.destination.labels == [
                "k8s:app=redis", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=data",
                "k8s:io.cilium.k8s.namespace.labels.purpose=data", "k8s:io.cilium.k8s.policy.cluster=default",
                "k8s:io.cilium.k8s.policy.serviceaccount=default",
                "k8s:io.kubernetes.pod.namespace=data",
            ], "\(flow.destination.labels ?? [])")
        #expect(flow.IP.source == "10.244.0.200")
        #expect(flow.l4.TCP?.flags == ["SYN": true])
        #expect(Self.facts(redis[0])?.rule == "shop/api-to-redis#egress[0], data/redis-from-api#ingress[0]")
        // The scan on the flat network names no policy: nothing isolated anyone.
        let before = lines.filter { Self.facts($0)?.stepName == "scan before (flat network)" }
        // No side enforces policy there: no policy verdict, each target's trace event alone.
        #expect(
            !before.isEmpty
                && before.allSatisfy {
                    $0.flow.verdict == "FORWARDED" && $0.flow.event_type.type == 4 && $0.flow.ingress_allowed_by == nil
                })
    }

    @Test("report cells: rule names the allowing rules or the isolating policies; confirmed needs the kernel's word")
    func ruleAndConfirmation() throws {
        let timeline = try Self.lateralScan()
        let index = try #require(timeline.scenario.steps.first { $0.name == "legitimate flows after" }?.index)
        let cells = timeline.cells(ofProbeStep: index)
        let allowed = try #require(cells.first { $0.from == ObjectKey("shop", "api") && $0.to == .pod(ObjectKey("data", "redis-0")) })
        #expect(allowed.result().rule == "shop/api-to-redis#egress[0], data/redis-from-api#ingress[0]")
        #expect(allowed.result().confirmed == nil)
        #expect(allowed.result(observed: .allow, attempts: 1).confirmed == true)
        let denied = try #require(
            cells.first {
                $0.from == ObjectKey("shop", "api") && $0.to == .pod(ObjectKey("monitoring", "prometheus-exporter"))
                    && $0.port.port == 6379
            })
        #expect(
            denied.result().rule
                == "shop/allow-dns#egress, shop/api-to-redis#egress, shop/default-deny-all#egress, "
                + "monitoring/default-deny-all#ingress, monitoring/exporter-from-prometheus#ingress")
        #expect(denied.result(observed: .deny, attempts: 1, reason: "dropped: kc deny egress shop/api").confirmed == true)
        // The wrong side logged it, or only a timeout: the kernel did not confirm the model.
        #expect(
            denied.result(observed: .deny, attempts: 1, reason: "dropped: kc deny ingress monitoring/prometheus-exporter").confirmed
                == false)
        #expect(denied.result(observed: .deny, attempts: 3, reason: "timeout").confirmed == false)
        #expect(denied.result(observed: .deny, attempts: 1, reason: "Operation not permitted (errno 1)").confirmed == true)
        // A connection the model denies that got through is no confirmation.
        #expect(denied.result(observed: .allow, attempts: 1).confirmed == false)
    }

    @Test(
        "the protobuf JSON parser reads the model flows against Hubble's field names, and rejects a foreign key",
        .enabled(if: HubbleReader.available, "protoc or python3-protobuf missing: source scripts/setup"))
    func publicReader() throws {
        let (_, lines) = try Self.flows(Self.lateralScan()) { ModelProbeRunner(cluster: $0) }
        let text = try FlowLog.encode(lines)
        let read = try HubbleReader.read(text)
        #expect(read.status == 0, "\(read.stderr)")
        let summaries = read.stdout.split(separator: "\n")
        #expect(summaries.count == lines.count)
        #expect(
            summaries.contains {
                $0.hasPrefix("FORWARDED EGRESS shop/api data/redis-0 6379")
                    && $0.contains("egress_allowed_by=shop/api-to-redis(NetworkPolicy)")
            })
        #expect(summaries.contains { $0.hasPrefix("DROPPED EGRESS monitoring/prometheus-exporter") && $0.contains("POLICY_DENIED") })
        // The reader is strict: a key Hubble does not define fails it.
        let foreign = try HubbleReader.read(text.replacingOccurrences(of: "\"traffic_direction\"", with: "\"trafic_direction\""))
        #expect(foreign.status != 0)
    }

    /// Hubble's `Layer4` holds `ICMPv4 ICMPv4 = 3` (cilium `api/v1/flow/flow.proto`); the fixture
    /// proto lacked it, so the reader refused every ICMP echo line and the check never covered them.
    @Test(
        "the protobuf JSON parser reads the ICMP echo flows of scenarios/icmp.yaml",
        .enabled(if: HubbleReader.available, "protoc or python3-protobuf missing: source scripts/setup"))
    func publicReaderICMP() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/icmp.yaml"))
        let (_, lines) = try Self.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let echoes = lines.filter { $0.flow.l4.ICMPv4 != nil }
        #expect(!echoes.isEmpty)
        let read = try HubbleReader.read(try FlowLog.encode(echoes))
        #expect(read.status == 0, "\(read.stderr)")
        let summaries = read.stdout.split(separator: "\n")
        #expect(summaries.count == echoes.count)
        #expect(summaries.allSatisfy { $0.contains(" icmp-8 ") }, "\(read.stdout)")
    }

    /// A pod as Cilium's identity names it, and a flow as Hubble's parser fills it: a Deployment's
    /// and a StatefulSet's controller labels are filtered out, a label without a value is `k8s:key`,
    /// Cilium's own labels are added; an echo request's summary is `ICMPv4 EchoRequest` and its
    /// zero code is left out of the JSON; `is_reply` is false on a forwarded flow and absent on a
    /// drop.
    @Test("Hubble's labels, ICMP summary and is_reply")
    func hubbleFieldsAsCiliumWritesThem() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hubble}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {team: a}}}
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: web, namespace: shop}
                  spec:
                    replicas: 1
                    selector: {matchLabels: {app: web}}
                    template:
                      metadata: {labels: {app: web, canary: "", app.kubernetes.io/name: web, kubernetes.io/os: linux}}
                      spec: {serviceAccountName: robot, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}
                - apiVersion: apps/v1
                  kind: StatefulSet
                  metadata: {name: db, namespace: shop}
                  spec:
                    replicas: 1
                    serviceName: db
                    selector: {matchLabels: {app: db}}
                    template:
                      metadata: {labels: {app: db}}
                      spec: {containers: [{name: c, image: c, ports: [{containerPort: 5432}]}]}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: db, namespace: shop}, spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}}
            """, file: "hubble.yaml")
        let cluster = timeline.cluster(afterStep: 0)
        let web = try #require(cluster.pods.values.first { $0.labels["app"] == "web" })
        let db = try #require(cluster.pods.values.first { $0.labels["app"] == "db" })
        #expect(web.labels["pod-template-hash"] != nil && db.labels["controller-revision-hash"] != nil)
        let namespaceLabels = cluster.namespaces["shop"]?.labels ?? [:]
        #expect(
            FlowLog.identityLabels(of: web, namespaceLabels: namespaceLabels) == [
                "k8s:app.kubernetes.io/name=web", "k8s:app=web", "k8s:canary",
                "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop", "k8s:io.cilium.k8s.namespace.labels.team=a",
                "k8s:io.cilium.k8s.policy.cluster=default", "k8s:io.cilium.k8s.policy.serviceaccount=robot",
                "k8s:io.kubernetes.pod.namespace=shop",
            ])
        #expect(
            FlowLog.identityLabels(of: db, namespaceLabels: namespaceLabels) == [
                "k8s:app=db", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
                "k8s:io.cilium.k8s.namespace.labels.team=a", "k8s:io.cilium.k8s.policy.cluster=default",
                "k8s:io.cilium.k8s.policy.serviceaccount=default", "k8s:io.kubernetes.pod.namespace=shop",
            ])
        for key in [
            "beta.kubernetes.io/arch", "node.beta.kubernetes.io/x", "k8s.io/x", "annotation.x", "etcd_node", "pod-template-generation",
            // The keys a Job stamps on its pods (Cilium's documented defaults).
            "controller-uid", "batch.kubernetes.io/controller-uid",
            // Zone and region labels (Cilium 1.19).
            "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
        ] {
            #expect(!FlowLog.identityLabelKept(key), "\(key)")
        }
        let log = FlowLog(scenario: "hubble", labName: "l", nodes: [:])
        let engine = PolicyEngine(cluster)
        func lines(from source: Pod, to pod: Pod, dropped: Bool) -> [HubbleFlowLine] {
            let facts = KeycardFlowFacts(
                scenario: "hubble", step: 1, kind: "probe", cell: "c", attempt: 1, attempts: 1, model: "allow", observed: "allow",
                evidence: "model")
            return log.events(
                from: source.key, to: .pod(pod.key), port: .icmpEcho, dropped: dropped,
                verdict: engine.evaluate(fromSource: source.key, to: .pod(pod.key), port: .icmpEcho), cluster: cluster, time: "t",
                sourcePort: nil, facts: facts)
        }
        let forwardedLines = lines(from: db, to: web, dropped: false)
        #expect(forwardedLines.count == 1)
        let forwarded = try #require(forwardedLines.first)
        #expect(forwarded.flow.Summary == "ICMPv4 EchoRequest")
        #expect(forwarded.flow.is_reply == false)
        let forwardedJSON = try FlowLog.encode([forwarded])
        #expect(forwardedJSON.contains("\"l4\":{\"ICMPv4\":{\"type\":8}}"), "\(forwardedJSON)")
        #expect(forwardedJSON.contains("\"is_reply\":false"))
        let events = lines(from: web, to: db, dropped: true)
        #expect(events.map(\.flow.verdict) == ["DROPPED", "DROPPED"])
        #expect(events.map(\.flow.event_type) == [.init(type: 5), .init(type: 1, sub_type: 133)])
        // Only a verdict that let the packet through says it opens its connection.
        #expect(events.map(\.flow.is_reply) == [nil, nil])
        #expect(!(try FlowLog.encode(events)).contains("is_reply"))
        #expect(HubbleFlow.ICMPLayer(type: 0, code: 0).summary == "ICMPv4 EchoReply")
        #expect(HubbleFlow.ICMPLayer(type: 8, code: 1).summary == "ICMPv4 EchoRequest(Code: 1)")
        let decoded = try JSONDecoder().decode(HubbleFlow.ICMPLayer.self, from: Data("{\"type\":8}".utf8))
        #expect(decoded == HubbleFlow.ICMPLayer(type: 8, code: 0))
    }

    /// Cilium gives a host-network pod no endpoint: Hubble shows its traffic as its node's,
    /// `reserved:host` (identity 1) on the node that saw the flow (`node_name`, the judging side's)
    /// and `reserved:remote-node` (6) on another; an address outside the pods is `reserved:world` (2). Every pod endpoint
    /// carries a numeric identity of 256 or more derived from its identity labels: replicas with
    /// the same labels share it, another label set has another.
    @Test func hostNetworkPodsAreTheirNodeAndEveryEndpointHasAnIdentity() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fmhost}
            spec:
              lab: {nodes: 2}
              externals: [{name: internet, ip: 203.0.113.7}]
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
                - {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: shop, labels: {app: agent}}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: c, image: c, ports: [{containerPort: 9100}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: near, namespace: shop, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: far, namespace: shop, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {app: db}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 5432}]}]}}
            """, file: "fmhost.yaml")
        let cluster = timeline.cluster(afterStep: 0)
        let log = FlowLog(scenario: "fmhost", labName: "l", nodes: timeline.plan.nodes)
        let engine = PolicyEngine(cluster)
        func line(_ from: ObjectKey, _ to: Endpoint, _ port: ProtocolPort) -> HubbleFlow {
            let facts = KeycardFlowFacts(
                scenario: "fmhost", step: 1, kind: "probe", cell: "c", attempt: 1, attempts: 1, model: "allow", observed: "allow",
                evidence: "model")
            return log.events(
                from: from, to: to, port: port, dropped: false, verdict: engine.evaluate(fromSource: from, to: to, port: port),
                cluster: cluster, time: "t", sourcePort: nil, facts: facts
            )[0].flow
        }
        let agent = ObjectKey("shop", "agent")
        let near = ObjectKey("shop", "near")
        let far = ObjectKey("shop", "far")
        let db = ObjectKey("shop", "db")
        let host = HubbleFlow.Endpoint(identity: 1, labels: ["reserved:host"])
        let remote = HubbleFlow.Endpoint(identity: 6, labels: ["reserved:remote-node"])
        // The host-network pod as a source and as a destination: never a pod endpoint.
        #expect(line(agent, .pod(near), .init(.tcp, 80)).source == host)
        #expect(line(agent, .pod(far), .init(.tcp, 80)).source == remote)
        #expect(line(near, .pod(agent), .init(.tcp, 9100)).destination == host)
        // agent has no endpoint to deliver to: far's node hands it to the stack, toward another node.
        let fromFar = line(far, .pod(agent), .init(.tcp, 9100))
        #expect(fromFar.destination == remote && fromFar.node_name == "l-node-1" && fromFar.source.pod_name == "far")
        // The node itself, as keycard already wrote it.
        #expect(line(.node("node-1"), .pod(far), .init(.tcp, 80)).source == host)
        #expect(
            line(near, .external("internet"), .init(.tcp, 443)).destination == HubbleFlow.Endpoint(identity: 2, labels: ["reserved:world"]))
        // Pods: same identity labels, same identity; another label set, another number.
        let nearFlow = line(near, .pod(far), .init(.tcp, 80))
        let nearIdentity = try #require(nearFlow.source.identity)
        #expect(nearIdentity >= 256 && nearIdentity <= 65535)
        #expect(nearFlow.destination.identity == nearIdentity)
        #expect(nearFlow.destination.pod_name == "far")
        let dbIdentity = try #require(line(near, .pod(db), .init(.tcp, 5432)).destination.identity)
        #expect(dbIdentity != nearIdentity && dbIdentity >= 256)
        #expect(FlowLog.identity(ofLabels: nearFlow.source.labels ?? []) == nearIdentity)
        #expect(try FlowLog.encode([HubbleFlowLine(flow: nearFlow)]).contains("\"identity\":\(nearIdentity),"))
    }

    /// docs/flows.md: the flow is the packet on the wire and the side that judged it. Ambient to
    /// ambient, that packet is TCP to the destination pod's HBONE port 15008, which NetworkPolicy
    /// judges (`PolicyEngine.evaluate(fromSource:to:port:mesh:)`); the flow said port 5432, EGRESS
    /// and no policy.
    @Test(
        "an HBONE hop's flow is TCP/15008 to the destination pod, judged by its ingress policies",
        arguments: [("5432", "DROPPED"), ("15008", "FORWARDED")])
    func hboneHop(_ admitted: String, _ verdict: String) throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fxmhbone}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: amb, labels: {app: db}}, spec: {containers: [{name: db, image: db, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: job, namespace: amb, labels: {app: job}}, spec: {containers: [{name: job, image: job}]}}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: db-in, namespace: amb}, spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress], ingress: [{ports: [{port: \(admitted)}]}]}}
              steps:
                - probe: {from: [amb/job], to: [amb/db], ports: [TCP/5432]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "h.yaml")
        let (_, lines) = try Self.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let verdicts = lines.filter { $0.flow.event_type.type == 5 }
        #expect(!verdicts.isEmpty)
        let policy = [HubbleFlow.Policy(name: "db-in", namespace: "amb")]
        for line in verdicts {
            #expect(line.flow.verdict == verdict)
            #expect(line.flow.traffic_direction == "INGRESS")
            #expect(line.flow.l4.TCP?.destination_port == 15008)
            #expect(line.flow.destination.pod_name == "db")
            if verdict == "DROPPED" {
                #expect(line.flow.ingress_denied_by == policy)
            } else {
                #expect(line.flow.ingress_allowed_by == policy)
            }
            // The application's port rides along, for generate: the observed flow is job → db 5432.
            #expect(line.flow.extensions?.value.applicationPort == 5432)
        }
        if verdict == "FORWARDED" {
            #expect(
                ObservedFlow.observed(lines, in: timeline.cluster(afterStep: 0)) == [
                    ObservedFlow(from: ObjectKey("amb", "job"), to: ObjectKey("amb", "db"), port: ProtocolPort(.tcp, 5432))
                ])
        }
    }
}

/// Reads flow lines with python3-protobuf's `json_format.Parse` against
/// `Fixtures/hubble/hubble_flow_subset.proto` (compiled with protoc for each read).
enum HubbleReader {
    static let folder = RepositoryFiles.absolute("Tests/KeycardScenarioTests/Fixtures/hubble")
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/protoc")
            && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/google/protobuf/json_format.py")
            && FileManager.default.fileExists(atPath: "/usr/include/google/protobuf/any.proto")
    }

    static func read(_ text: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let directory = NSTemporaryDirectory() + "keycard-hubble-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compile = try run(
            "/usr/bin/protoc", ["-I/usr/include", "-I\(folder)", "--python_out=\(directory)", "hubble_flow_subset.proto"])
        guard compile.status == 0 else { return compile }
        let file = directory + "/flows.jsonl"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return try run("/usr/bin/python3", ["\(folder)/read_flows.py", directory, file])
    }

    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = NSTemporaryDirectory() + "keycard-hubble-out-\(UUID().uuidString)"
        let err = out + ".err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }
}

struct FlowTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real run of lateral-scan's network part writes its flows as each step ends.
@Suite("Flow log of a real run", .serialized)
struct FlowLogKernelTests {
    @Test("the run's flows: the scan DROPPED by the isolating policies, API to Redis FORWARDED, confirmed by the kernel")
    func realRun() throws {
        let timeline = try FlowLogTests.lateralScan()
        let lab = ScenarioLibrary.uniqueLabName()
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, labName: lab))
        defer { run.tearDown() }
        let log = FlowLog(scenario: timeline.scenario.name, labName: lab, nodes: timeline.plan.nodes)
        var lines: [HubbleFlowLine] = []
        run.stepFinished = { step in lines += log.flows(of: step, cluster: timeline.cluster(afterStep: step.index), time: Date()) }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)

        let scanAfter = lines.filter { FlowLogTests.facts($0)?.stepName == "scan after (zero trust)" }
        #expect(
            !scanAfter.isEmpty
                && scanAfter.allSatisfy {
                    $0.flow.verdict == "DROPPED" && $0.flow.egress_denied_by?.count == ($0.flow.event_type.type == 5 ? 2 : nil)
                })
        let redis = lines.filter {
            FlowLogTests.facts($0)?.stepName == "legitimate flows after" && $0.flow.source.pod_name == "api"
                && $0.flow.destination.namespace == "data" && $0.flow.l4.TCP?.destination_port == 6379
        }
        // Each side's verdict with its own policies: api's egress, then redis' ingress.
        let egress = redis.filter { $0.flow.traffic_direction == "EGRESS" }
        #expect(
            egress.count == 2
                && egress.allSatisfy { $0.flow.verdict == "FORWARDED" && $0.flow.egress_allowed_by?.first?.name == "api-to-redis" })
        #expect(
            redis.count == 4
                && redis.filter { $0.flow.traffic_direction == "INGRESS" }.allSatisfy {
                    $0.flow.verdict == "FORWARDED" && $0.flow.ingress_allowed_by != nil && $0.flow.egress_allowed_by == nil
                })
        // Every probe cell of the run is attributed and, in pod placement with drop evidence, the
        // kernel confirmed each verdict (a logged drop by the side the model names, or an answer).
        for step in report.steps {
            for case .probe(let cell) in step.results ?? [] where cell.expected != .ignored {
                #expect(cell.confirmed == true, "\(cell.cellDescription): \(cell.reason ?? "") rule \(cell.rule ?? "-")")
            }
        }
        if HubbleReader.available {
            let read = try HubbleReader.read(try FlowLog.encode(lines))
            #expect(read.status == 0, "\(read.stderr)")
        }
    }
}
