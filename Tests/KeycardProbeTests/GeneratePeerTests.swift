import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// `keycard generate` toward ends no pod selector picks (externals, lab nodes), beside a declared
/// kube-dns pod, and its summary line (review of generate + diff).
@Suite("Generate, peers")
struct GeneratePeerTests {
    static let peers = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: gen-peers}
        spec:
          lab: {nodes: 2}
          externals:
            - {name: metadata, ip: 169.254.169.254, ports: [TCP/80]}
            - {name: public, ip: 203.0.113.10, ports: [TCP/443]}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: app}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: app, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: app, labels: {app: db}}, spec: {nodeName: node-1, containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
          steps:
            - probe: {from: [app/web], to: [external/public], ports: [TCP/443]}
            - probe: {from: [external/public], to: [app/web], ports: [TCP/8080]}
            - probe: {from: [node/node-1], to: [app/web], ports: [TCP/8080]}
        """

    static let web = ObjectKey("app", "web")
    static let db = ObjectKey("app", "db")

    /// Flows to and from an external, and from a node, were dropped: no `ipBlock` rule, no proof
    /// cell. Now each is an `ipBlock` of its one address, proven both ways.
    @Test("flows with externals and nodes become ipBlock /32 rules and proof cells")
    func externalsAndNodesAreIPBlocks() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.peers, file: "gen-peers.yaml")
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let generator = PolicyGenerator(timeline)
        let observed = ObservedFlow.observed(lines, in: generator.cluster)
        let toPublic = ObservedFlow(from: Self.web, to: .external("public"), port: ProtocolPort(.tcp, 443))
        let fromPublic = ObservedFlow(from: .external("public"), to: Self.web, port: ProtocolPort(.tcp, 8080))
        let fromNode = ObservedFlow(from: .node("node-1"), to: Self.web, port: ProtocolPort(.tcp, 8080))
        #expect(observed == [toPublic, fromPublic, fromNode])

        let policies = generator.policies(observed)
        let web = try #require(policies.first { $0.name == "keycard-web" })
        let public32 = CIDR.ipv4(try #require(IPv4("203.0.113.10")), 32)
        let node32 = CIDR.ipv4(LabNetwork.nodeAddress(1), 32)
        #expect(web.egress == [.init(peers: [.init(ipBlock: .init(cidr: public32))], ports: [.init(proto: .tcp, port: .number(443))])])
        let ingress = web.ingress ?? []
        #expect(ingress.count == 2)
        for cidr in [public32, node32] {
            #expect(
                ingress.contains {
                    $0.peers == [.init(ipBlock: .init(cidr: cidr))] && $0.ports == [.init(proto: .tcp, port: .name("http"))]
                })
        }
        #expect(generator.notes(observed).contains { $0.hasPrefix("node/node-1 is a node: the rules name it by its node's address") })

        // The proof: every external to every port of every pod and back, the observed node to
        // every pod; the model of the generated policies agrees with what the proof expects.
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: policies)
        let cells = GeneratedPolicyProof.cells(cluster, observed: observed, generator: generator)
        func expected(_ from: ObjectKey, _ to: Endpoint, _ port: Int) -> ExpectedCell? {
            cells.first { $0.from == from && $0.to == to && $0.port == ProtocolPort(.tcp, port) }?.expected
        }
        #expect(expected(Self.web, .external("public"), 443) == .explicit(.allow))
        #expect(expected(Self.web, .external("metadata"), 80) == .explicit(.deny))
        #expect(expected(Self.db, .external("public"), 443) == .explicit(.deny))
        #expect(expected(.external("public"), .pod(Self.web), 8080) == .explicit(.allow))
        #expect(expected(.external("metadata"), .pod(Self.web), 8080) == .explicit(.deny))
        #expect(expected(.external("public"), .pod(Self.db), 5432) == .explicit(.deny))
        #expect(expected(.node("node-1"), .pod(Self.web), 8080) == .explicit(.allow))
        // db runs on node-1: its own node is let in by the local-node rule, whatever the policies say.
        #expect(expected(.node("node-1"), .pod(Self.db), 5432) == .explicit(.allow))
        #expect(
            cells.allSatisfy { $0.expectedOutcome.decision == $0.verdict.decision }, "\(cells.map { "\($0.from) -> \($0.to) \($0.port)" })")
        // With nodeIngress: policy, the node is one more address: db's own node is denied.
        var strict = cluster
        strict.nodeIngress = .policy
        var strictFinal = generator.cluster
        strictFinal.nodeIngress = .policy
        let strictGenerator = PolicyGenerator(strictFinal, keycardPods: generator.keycardPods)
        let strictCells = GeneratedPolicyProof.cells(strict, observed: observed, generator: strictGenerator)
        let nodeToDB = try #require(strictCells.first { $0.from == .node("node-1") && $0.to == .pod(Self.db) })
        #expect(nodeToDB.expected == .explicit(.deny) && nodeToDB.verdict.decision == .deny)

        // The summary counts what was generated.
        let gone = ObservedFlow(from: Self.web, to: ObjectKey("app", "gone"), port: ProtocolPort(.tcp, 80))
        let summary = generator.summary(observed.union([gone]), policies: policies, icmp: 1)
        #expect(summary.policies == 2 && summary.rules == 3 && summary.allowed == 3 && summary.gone == 1)
        #expect(
            summary.line
                == "generated 2 policies (3 rules) from 5 observed flows: 3 allowed, 2 skipped (1 ICMP, 1 whose pod is gone by the last step)"
        )
    }

    /// `generate --flows` prints the summary of what it wrote: it printed "from N observed flows",
    /// N counting flows no rule was written for.
    @Test("generate prints the policies, rules and flows it generated")
    func generatePrintsItsSummary() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.peers, file: "gen-peers.yaml")
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let folder = NSTemporaryDirectory() + "keycard-gen-peers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.peers.write(toFile: folder + "/gen-peers.yaml", atomically: true, encoding: .utf8)
        try FlowLog.encode(lines).write(toFile: folder + "/flows.jsonl", atomically: true, encoding: .utf8)
        let result = try KeycardBinary.run(["generate", folder + "/gen-peers.yaml", "--flows", folder + "/flows.jsonl"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("generated 2 policies (3 rules) from 3 observed flows: 3 allowed, 0 skipped"), "\(result.stderr)")
        #expect(result.stdout.contains("# generated 2 policies (3 rules) from 3 observed flows: 3 allowed, 0 skipped."), "\(result.stdout)")
        #expect(result.stdout.contains("ipBlock: {cidr: \"203.0.113.10/32\"}"), "\(result.stdout)")
    }

    /// A host-network pod's traffic is its node's, so the pods of its node let it in by the
    /// local-node rule: the proof expected those cells denied (it asked the rule of the pod, not
    /// of its node) while the model and the packets allowed them.
    @Test("the proof expects a host-network pod's own node's pods open (local-node rule)")
    func hostNetworkPodsReachTheirNodesPods() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/host-network.yaml"))
        let (_, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let generator = PolicyGenerator(timeline)
        let observed = ObservedFlow.observed(lines, in: generator.cluster)
        let cluster = GeneratedPolicyProof.cluster(timeline, generated: generator.policies(observed))
        let cells = GeneratedPolicyProof.cells(cluster, observed: observed, generator: generator)
        let local = cells.filter { cell in
            guard let to = cell.to.sourceKey else { return false }
            let flow = ObservedFlow(from: cell.from, to: to, port: cell.port)
            return generator.cluster.isHostNetwork(cell.from) && !observed.contains(flow) && generator.localNodeAdmits(flow)
        }
        #expect(!local.isEmpty)
        #expect(local.allSatisfy { $0.expected == .explicit(.allow) })
        let wrong = cells.filter { $0.expectedOutcome.decision != $0.verdict.decision }
        #expect(wrong.isEmpty, "\(wrong.map { "\($0.from) -> \($0.to) \($0.port) expected \($0.expected) model \($0.verdict.decision)" })")
    }

    static let ownDNS = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: gen-own-dns}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: app}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: app, labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}, spec: {containers: [{name: c, image: i, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]}]}}
          steps:
            - probe: {from: [app/web], to: [kube-system/coredns], ports: [TCP/53]}
        """

    /// A scenario's own `k8s-app: kube-dns` pod beside keycard's cluster DNS pod: no label tells
    /// them apart, so the declared pod's policy selects keycard's too. It allowed only the flows
    /// to the declared pod, cutting every DNS query to keycard's off. Now both pods' flows are
    /// the policy's, and the queries stay allowed.
    @Test("a declared kube-dns pod beside keycard's: one policy, DNS queries to keycard's pod stay allowed")
    func declaredKubeDNSBesideKeycards() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.ownDNS, file: "gen-own-dns.yaml")
        let generator = PolicyGenerator(timeline)
        let query = ObservedFlow(from: Self.web, to: ClusterDNS.podKey, port: ProtocolPort(.udp, 53))
        let probe = ObservedFlow(from: Self.web, to: ObjectKey("kube-system", "coredns"), port: ProtocolPort(.tcp, 53))
        let observed: Set<ObservedFlow> = [query, probe]
        let policies = generator.policies(observed)
        let system = policies.filter { $0.namespace == "kube-system" }
        #expect(system.map(\.name) == ["keycard-kube-dns"])
        let dns = try #require(system.first)
        #expect(dns.podSelector == LabelSelector(matchLabels: ["k8s-app": "kube-dns"]))
        #expect(dns.ingress?.count == 1)
        #expect(dns.ingress?.first?.ports == [.init(proto: .tcp, port: .name("dns-tcp")), .init(proto: .udp, port: .name("dns"))])
        // The client's egress: one rule to the kube-dns pods, both ports once.
        let web = try #require(policies.first { $0.name == "keycard-web" })
        #expect(web.egress?.count == 1)
        #expect(web.egress?.first?.ports == [.init(proto: .tcp, port: .name("dns-tcp")), .init(proto: .udp, port: .name("dns"))])

        let cluster = GeneratedPolicyProof.cluster(timeline, generated: policies)
        let engine = PolicyEngine(cluster)
        #expect(engine.evaluate(fromSource: query.from, to: .pod(query.to), port: query.port).decision == .allow)
        let cells = GeneratedPolicyProof.cells(cluster, observed: observed, generator: generator)
        #expect(cells.contains { $0.from == Self.web && $0.to == .pod(ClusterDNS.podKey) && $0.port == query.port })
        #expect(
            cells.allSatisfy { $0.expectedOutcome.decision == $0.verdict.decision }, "\(cells.map { "\($0.from) -> \($0.to) \($0.port)" })")
    }

    /// Manifests that bring their own `kube-system/kube-dns-0` turn keycard's cluster DNS off: that
    /// pod is theirs, yet the generator took it for keycard's by its name and wrote it no policy.
    @Test("a declared pod named like keycard's DNS pod, with cluster DNS off, gets its policy")
    func declaredPodNamedLikeKeycardsDNSPod() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: gen-named-dns}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: kube-dns-0, namespace: kube-system, labels: {k8s-app: kube-dns}}, spec: {containers: [{name: c, image: i, ports: [{name: dns, containerPort: 53, protocol: UDP}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - probe: {from: [default/web], to: [kube-system/kube-dns-0], ports: [UDP/53]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "gen-named-dns.yaml")
        #expect(timeline.keycardPods.isEmpty)
        let generator = PolicyGenerator(timeline)
        #expect(generator.isSubject(ClusterDNS.podKey))
        let flow = ObservedFlow(from: ObjectKey("default", "web"), to: ClusterDNS.podKey, port: ProtocolPort(.udp, 53))
        let dns = try #require(generator.policies([flow]).first { $0.namespace == "kube-system" })
        #expect(dns.ingress?.first?.ports == [.init(proto: .udp, port: .name("dns"))])
    }
}

/// The same with real packets (as root).
@Suite("Generate, peers proven", .serialized)
struct GeneratePeerKernelTests {
    @Test("generate --prove sends the external and node cells: the observed ones pass, the rest is denied")
    func externalsAndNodesAreProven() throws {
        let name = ScenarioLibrary.uniqueLabName()
        let path = NSTemporaryDirectory() + "\(name).yaml"
        try GeneratePeerTests.peers.replacingOccurrences(of: "name: gen-peers", with: "name: \(name)")
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = path + ".policies.yaml"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try KeycardBinary.run(["generate", path, "-o", out, "--prove"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "proof: 12 cells, 4 allowed (3 observed flows, and 1 from a pod's own node (the local-node rule)), 8 denied: every observed flow passes, the rest is denied"
            ), "\(result.stderr)")
    }
}
