import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Host-network pods (issue 18 part 4): decoding, their address, host-port clashes, and the model's
/// verdicts (policies neither isolate nor select them; their connections are their node's).
@Suite("Host-network pods")
struct HostNetworkTests {
    /// Two nodes: prod/web on node-0, prod/api on node-1 (round-robin), plus `pods`.
    static func timeline(_ resources: String, steps: String? = nil, nodeIngress: String = "allow") throws -> Timeline {
        try ScenarioLoader.parseTimeline(
            T.scenario(resources: resources, steps: steps) + "  lab: {nodes: 2, nodeIngress: \(nodeIngress)}\n", file: "host.yaml")
    }

    /// A host-network pod of prod on `node`, labelled `app: <label>`, serving `port`.
    static func hostPod(
        _ name: String, node: String = "node-0", label: String = "web", port: String = "9100", extra: String = ""
    ) -> String {
        """
        - apiVersion: v1
          kind: Pod
          metadata: {name: \(name), namespace: prod, labels: {app: \(label)}}
          spec: {nodeName: \(node), hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: \(port)}]}]}\(extra)
        """
    }

    static let exporter = ObjectKey("prod", "exporter")
    static let web = ObjectKey("prod", "web")
    static let api = ObjectKey("prod", "api")
    static let tcp9100 = ProtocolPort(.tcp, 9100)
    static let tcp80 = ProtocolPort(.tcp, 80)
    static let tcp8080 = ProtocolPort(.tcp, 8080)

    @Test func decodedWithItsNodesAddress() throws {
        let t = try Self.timeline(Self.hostPod("exporter", node: "node-1"))
        let pod = try #require(t.initial.pods[Self.exporter])
        #expect(pod.hostNetwork)
        #expect(t.initial.addresses[Self.exporter] == IPv4("100.64.0.6"))
        #expect(t.plan.hostNetwork == [Self.exporter])
        #expect(t.plan.podNamespaceNodes[Self.exporter] == nil)
        #expect(t.plan.podNamespaceNodes[Self.web] == 0)
        #expect(t.initial.pods[Self.web]?.hostNetwork == false, "the API's default is false")
        // The node's address still names the node, not the pod that shares it.
        #expect(t.initial.endpoint(at: IPv4(0x6440_0006)) == .node("node-1"))
        #expect(t.warnings.isEmpty, "\(t.warnings)")
    }

    @Test func statusPodIPOtherThanTheNodesIsWarnedAndIgnored() throws {
        let other = try Self.timeline(Self.hostPod("exporter", extra: "\n  status: {podIP: 10.244.0.9}"))
        #expect(other.initial.addresses[Self.exporter] == IPv4("100.64.0.2"))
        #expect(
            other.warnings.contains { $0.message.contains("status.podIP 10.244.0.9 is ignored: a hostNetwork pod's address is its node's") }
        )
        let same = try Self.timeline(Self.hostPod("exporter", extra: "\n  status: {podIP: 100.64.0.2}"))
        #expect(same.warnings.isEmpty)
    }

    @Test func hostNetworkMustBeABoolean() throws {
        let text = T.scenario(
            resources: Self.hostPod("exporter").replacingOccurrences(of: "hostNetwork: true", with: "hostNetwork: yes please"))
        let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "bad.yaml") }
        #expect(error.message.contains("spec.hostNetwork"), "\(error)")
    }

    /// The API server accepts a second host-network pod with the same port on one node; the
    /// scheduler never binds it there (NodePorts), so it does not run while the first exists: with
    /// `nodeName` the kubelet refuses it (it never runs), without it it stays Pending.
    @Test func aSecondHostNetworkPodOnTheSamePortDoesNotRun() throws {
        let named = try Self.timeline(Self.hostPod("a") + "\n" + Self.hostPod("b"))
        #expect(named.initial.pods[ObjectKey("prod", "b")] == nil)
        #expect(named.initial.pods[ObjectKey("prod", "a")] != nil)
        #expect(named.warnings.contains { $0.message.contains("pod prod/b: spec.nodeName binds it to node-0") }, "\(named.warnings)")
        let unbound = { (name: String) in Self.hostPod(name).replacingOccurrences(of: "nodeName: node-0, ", with: "") }
        let pending = try ScenarioLoader.parseTimeline(
            T.scenario(
                resources: unbound("a") + "\n" + unbound("b"),
                steps: "- delete: [{kind: Pod, namespace: prod, name: a}]"),
            file: "pending.yaml")
        #expect(pending.initial.pods[ObjectKey("prod", "b")] == nil)
        #expect(pending.warnings.contains { $0.message.contains("pod prod/b stays Pending: host port 9100/TCP is taken on node-0") })
        // Once the holder is gone the scheduler binds it, on the node's address.
        let after = pending.cluster(afterStep: 1)
        #expect(after.pods[ObjectKey("prod", "b")] != nil)
        #expect(after.addresses[ObjectKey("prod", "b")] == pending.initial.addresses[ObjectKey("prod", "a")])
    }

    /// A program cannot listen on a node port another program or keycard's listener holds, and the
    /// lab starts every pod's program, Pending or not: two host-network pods on the same port of a
    /// node are refused when either has a `command:`.
    @Test func twoHostNetworkProgramsOnOnePortAreRefused() throws {
        let withCommand = { (name: String) in
            Self.hostPod(name).replacingOccurrences(
                of: "containers: [{name: c, image: i,", with: "containers: [{name: c, image: i, command: [sleep, '60'],")
        }
        let text = T.scenario(resources: withCommand("a") + "\n" + withCommand("b")) + "  lab: {nodes: 2}\n"
        let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "clash.yaml") }
        #expect(
            error.message.contains(
                "host port TCP/9100 of node-0 is declared by the hostNetwork pod prod/a too, and prod/a and prod/b run a command"),
            "\(error.message)")
        // file:line:col of the second pod: its list item, two lines above its metadata.
        let metadata = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("name: b,") })
        #expect(error.location.file == "clash.yaml")
        #expect(error.location.line == metadata - 1, "\(error.location), pod b's metadata on line \(metadata + 1)")
        // One program and keycard's listener on the same port cannot share it either, whichever runs.
        for (first, second) in [(withCommand("a"), Self.hostPod("b")), (Self.hostPod("a"), withCommand("b"))] {
            let mixed = try #require(throws: ScenarioError.self) { try Self.timeline(first + "\n" + second) }
            #expect(mixed.message.contains("runs a command"), "\(mixed.message)")
        }
    }

    @Test func hostPortsThatDoNotClash() throws {
        // Other nodes, other protocols, and a pod gone before the next comes: all accepted.
        _ = try Self.timeline(Self.hostPod("a") + "\n" + Self.hostPod("b", node: "node-1"))
        let udp = Self.hostPod("b").replacingOccurrences(of: "containerPort: 9100", with: "containerPort: 9100, protocol: UDP")
        _ = try Self.timeline(Self.hostPod("a") + "\n" + udp)
        _ = try Self.timeline(
            Self.hostPod("a"),
            steps: """
                - delete: [{kind: Pod, namespace: prod, name: a}]
                - apply:
                \(T.indent(Self.hostPod("b"), 4))
                """)
        // An ordinary pod's port is its own: no clash with a host port.
        _ = try Self.timeline(Self.hostPod("a", port: "80"))
    }

    @Test func aClashAppliedInAStepDoesNotRun() throws {
        let t = try Self.timeline(Self.hostPod("a"), steps: "- apply:\n" + T.indent(Self.hostPod("b"), 4))
        #expect(t.cluster(afterStep: 1).pods[ObjectKey("prod", "b")] == nil)
        #expect(t.warnings.contains { $0.message.contains("host port 9100/TCP is taken there by pod prod/a") }, "\(t.warnings)")
    }

    @Test func aPodCannotSwitchNetworksUnderOneName() throws {
        let ordinary = "- {apiVersion: v1, kind: Pod, metadata: {name: exporter, namespace: prod}, spec: {containers: [{name: c}]}}"
        let error = try #require(throws: ScenarioError.self) {
            try Self.timeline(
                Self.hostPod("exporter"),
                steps: "- delete: [{kind: Pod, namespace: prod, name: exporter}]\n- apply:\n" + T.indent(ordinary, 4))
        }
        #expect(error.message.contains("cannot leave the host network"), "\(error.message)")
    }

    /// Every pod of prod isolated both ways (the exporter's labels match podSelector {} too).
    static let denyAll = T.policy(
        """
        podSelector: {}
        policyTypes: [Ingress, Egress]
        """)

    @Test func policiesDoNotIsolateIt() throws {
        let t = try Self.timeline(Self.hostPod("exporter") + "\n" + Self.denyAll)
        let engine = PolicyEngine(t.initial)
        let verdict = engine.evaluate(from: .pod(Self.api), to: .pod(Self.exporter), port: Self.tcp9100)
        #expect(verdict.ingress.outcome == .notIsolated)
        #expect(verdict.egress.outcome == .denied, "api's own egress isolation still counts")
        #expect(t.initial.isolatingPolicies(for: try #require(t.initial.pods[Self.exporter]), .ingress).isEmpty)
        let fromNode = engine.evaluate(from: .node("node-1"), to: .pod(Self.exporter), port: Self.tcp9100)
        #expect(fromNode.decision == .allow)
    }

    @Test func itsConnectionsAreItsNodes() throws {
        let t = try Self.timeline(Self.hostPod("exporter") + "\n" + Self.denyAll)
        let engine = PolicyEngine(t.initial)
        // exporter runs on node-0 with web: the local-node rule lets it in; api is on node-1.
        let local = engine.evaluate(from: .pod(Self.exporter), to: .pod(Self.web), port: Self.tcp80)
        #expect(local.decision == .allow)
        #expect(local.ingress.outcome == .localNode)
        #expect(local.from == .pod(Self.exporter), "the verdict still names the pod")
        #expect(local.egress.outcome == .notApplicable, "no egress policy applies to it")
        #expect(engine.evaluate(from: .pod(Self.exporter), to: .pod(Self.api), port: Self.tcp8080).decision == .deny)
        let judged = try Self.timeline(Self.hostPod("exporter") + "\n" + Self.denyAll, nodeIngress: "policy")
        #expect(PolicyEngine(judged.initial).evaluate(from: .pod(Self.exporter), to: .pod(Self.web), port: Self.tcp80).decision == .deny)
    }

    @Test func selectorsNeverMatchItIpBlocksSeeTheNode() throws {
        let peers = T.policy(
            """
            podSelector: {}
            policyTypes: [Ingress, Egress]
            ingress: [{from: [{podSelector: {matchLabels: {app: monitor}}}]}]
            egress: [{to: [{namespaceSelector: {}}]}]
            """, name: "selectors")
        let t = try Self.timeline(Self.hostPod("monitor", node: "node-1", label: "monitor", port: "9091") + "\n" + peers)
        let engine = PolicyEngine(t.initial)
        let monitor = ObjectKey("prod", "monitor")
        // web is on node-0: only a selector could admit the monitor, and none matches it.
        #expect(engine.evaluate(from: .pod(monitor), to: .pod(Self.web), port: Self.tcp80).decision == .deny)
        // namespaceSelector {} admits every pod of every namespace, not a host-network pod.
        #expect(engine.evaluate(from: .pod(Self.web), to: .pod(monitor), port: ProtocolPort(.tcp, 9091)).decision == .deny)
        #expect(engine.evaluate(from: .pod(Self.web), to: .pod(Self.api), port: Self.tcp8080).egress.outcome == .allowed)
        let blocks = T.policy(
            """
            podSelector: {}
            policyTypes: [Ingress, Egress]
            ingress: [{from: [{ipBlock: {cidr: 100.64.0.6/32}}]}]
            egress: [{to: [{ipBlock: {cidr: 100.64.0.0/16}}]}]
            """, name: "blocks")
        let opened = try Self.timeline(Self.hostPod("monitor", node: "node-1", label: "monitor", port: "9091") + "\n" + blocks)
        let open = PolicyEngine(opened.initial)
        #expect(open.evaluate(from: .pod(monitor), to: .pod(Self.web), port: Self.tcp80).decision == .allow)
        #expect(open.evaluate(from: .pod(Self.web), to: .pod(monitor), port: ProtocolPort(.tcp, 9091)).decision == .allow)
    }

    /// Its connections leave from the node's namespace, where the lab runs no Service proxy.
    @Test func aProbeFromItToAServiceIsRefused() throws {
        let service =
            "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}"
        let error = try #require(throws: ScenarioError.self) {
            try Self.timeline(
                Self.hostPod("exporter") + "\n" + service, steps: "- probe: {from: [prod/exporter], to: [svc/prod/web], ports: [TCP/80]}")
        }
        #expect(error.message.contains("uses the host network and the lab runs no Service proxy"), "\(error.message)")
        // To the Service from an ordinary pod, and from it to the Service's pod, are fine.
        _ = try Self.timeline(
            Self.hostPod("exporter") + "\n" + service, steps: "- probe: {from: [prod/exporter], to: [prod/web], ports: [TCP/80]}")
    }

    /// Unnamed, it is no default source of a step that aims at a Service (it had been refused).
    @Test func theDefaultSourcesOfAServiceProbeLeaveItOut() throws {
        let service =
            "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}"
        let t = try Self.timeline(Self.hostPod("exporter") + "\n" + service, steps: "- probe: {to: [svc/prod/web], ports: [TCP/80]}")
        let sources = try #require(t.probes[1]).sources
        #expect(!sources.contains(ObjectKey("prod", "exporter")) && sources.contains(Self.web), "\(sources)")
    }

    @Test func probesNameItAsSourceAndDestination() throws {
        let t = try Self.timeline(
            Self.hostPod("exporter") + "\n" + Self.denyAll,
            steps: """
                - probe: {from: [prod/exporter, prod/api], to: [prod/web, prod/exporter], ports: [TCP/80, TCP/9100]}
                  expect:
                    TCP/80: |
                      -              prod/web  prod/exporter
                      prod/exporter  .         #
                      prod/api       X         X
                    TCP/9100: |
                      -              prod/web  prod/exporter
                      prod/exporter  .         #
                      prod/api       X         X
                """)
        #expect(ModelReport.build(t).passed)
    }
}
