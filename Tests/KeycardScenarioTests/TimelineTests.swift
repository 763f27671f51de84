import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Extra objects several tests share: namespace dev (team: x) with dev/client.
private let devClient = """
    - {apiVersion: v1, kind: Namespace, metadata: {name: dev, labels: {team: x}}}
    - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: dev, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
    """

/// The model's decision for one connection in the cluster after `step`.
private func decision(_ timeline: Timeline, after step: Int, _ from: String, _ to: String, _ port: ProtocolPort) -> Decision {
    PolicyEngine(timeline.cluster(afterStep: step)).evaluate(
        from: .pod(required(ObjectKey.parse(from), from)), to: required(Endpoint.parse(to), to), port: port
    )
    .decision
}

@Suite("Timeline: the cluster at every step")
struct TimelineTests {
    /// Every namespace, built-in or declared, carries kubernetes.io/metadata.name; a label step
    /// cannot remove it, so a policy selecting the namespace by name keeps selecting it.
    @Test func namespaceNameLabelSurvivesALabelStep() throws {
        let policy = T.policy(
            """
            podSelector: {matchLabels: {app: web}}
            ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}}]}]
            """)
        let t = try timeline(
            T.scenario(
                resources: devClient + "\n" + policy,
                steps: """
                    - label: {kind: Namespace, name: dev, labels: {}}
                    - probe: {from: [dev/client], to: [prod/web], ports: [TCP/80]}
                      expect: {default: allow}
                    """))
        for name in Timeline.builtinNamespaces {
            #expect(t.initial.namespaces[name]?.labels == ["kubernetes.io/metadata.name": name])
        }
        #expect(t.initial.namespaces["dev"]?.labels == ["team": "x", "kubernetes.io/metadata.name": "dev"])
        #expect(t.cluster(afterStep: 1).namespaces["dev"]?.labels == ["kubernetes.io/metadata.name": "dev"])
        #expect(decision(t, after: 1, "dev/client", "prod/web", ProtocolPort(.tcp, 80)) == .allow)
        #expect(ModelReport.build(t).passed)
    }

    /// Relabelling a pod changes which policies select it and which peers match it.
    @Test func podLabelStepChangesSelection() throws {
        let policy = T.policy(
            """
            podSelector: {matchLabels: {app: web}}
            ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
            """)
        let t = try timeline(
            T.scenario(
                resources: policy,
                steps: """
                    - label: {kind: Pod, namespace: prod, name: api, labels: {app: other}}
                    - label: {kind: Pod, namespace: prod, name: web, labels: {}}
                    """))
        let port = ProtocolPort(.tcp, 80)
        #expect(decision(t, after: 0, "prod/api", "prod/web", port) == .allow)  // api matches the peer
        #expect(decision(t, after: 1, "prod/api", "prod/web", port) == .deny)  // api no longer matches
        #expect(decision(t, after: 2, "prod/api", "prod/web", port) == .allow)  // web no longer selected: not isolated
    }

    /// Deleting a policy ends the isolation it caused; deleting a namespace deletes its pods and
    /// policies; a pod deleted and applied again keeps its address.
    @Test func deletesAndReapply() throws {
        let t = try timeline(
            T.scenario(
                resources: devClient + "\n" + T.policy("podSelector: {}\npolicyTypes: [Ingress]", name: "deny"),
                steps: """
                    - delete: [{kind: NetworkPolicy, namespace: prod, name: deny}]
                    - delete: [{kind: Namespace, name: dev}]
                    - delete: [{kind: Pod, namespace: prod, name: api}]
                    - apply: [{apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod}, spec: {containers: [{name: c, image: i}]}}]
                    """))
        let port = ProtocolPort(.tcp, 80)
        #expect(decision(t, after: 0, "prod/api", "prod/web", port) == .deny)
        #expect(decision(t, after: 1, "prod/api", "prod/web", port) == .allow)
        #expect(t.cluster(afterStep: 2).pods[ObjectKey("dev", "client")] == nil)
        #expect(t.cluster(afterStep: 2).namespaces["dev"] == nil)
        #expect(t.cluster(afterStep: 3).pods[ObjectKey("prod", "api")] == nil)
        let before = t.initial.addresses[ObjectKey("prod", "api")]
        #expect(before != nil)
        #expect(t.cluster(afterStep: 4).addresses[ObjectKey("prod", "api")] == before)
        #expect(t.cluster(afterStep: 4).pods[ObjectKey("prod", "api")]?.labels == [:])
    }

    /// Pinned addresses are kept; the rest are allocated inside the pod CIDR, all distinct, and a
    /// pod pinned to node-1 gets node-1's slice.
    @Test func addressPlan() throws {
        let t = try timeline(
            T.scenario(
                resources: """
                    - {apiVersion: v1, kind: Pod, metadata: {name: pinned, namespace: prod}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 10.244.0.1}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: placed, namespace: prod}, spec: {nodeName: node-1, containers: [{name: c, image: i}]}}
                    """) + "  lab: {nodes: 2}\n")
        let addresses = t.initial.addresses
        #expect(addresses[ObjectKey("prod", "pinned")] == IPv4("10.244.0.1"))
        #expect(Set(addresses.values).count == addresses.count)
        let cidr = try #require(CIDR.parse("10.244.0.0/16"))
        #expect(addresses.values.allSatisfy { cidr.contains($0) })
        #expect(t.plan.slices.map(\.description) == ["10.244.0.0/17", "10.244.128.0/17"])
        #expect(t.plan.nodes[ObjectKey("prod", "placed")] == 1)
        #expect(t.plan.slices[1].contains(try #require(addresses[ObjectKey("prod", "placed")])))
    }

    /// A probe without from/to/ports covers every pod, every pod and external, every served port.
    @Test func probeDefaults() throws {
        let t = try timeline(
            T.scenario(resources: devClient, steps: "- probe: {}") + """
                  externals: [{name: site, ip: 203.0.113.7, ports: [TCP/443]}]

                """)
        let probe = try #require(t.probes[1])
        #expect(probe.sources.map(\.description) == ["dev/client", "prod/api", "prod/web"])
        #expect(probe.destinations.map(\.description) == ["dev/client", "prod/api", "prod/web", "external/site"])
        #expect(probe.ports.map(\.description) == ["TCP/80", "TCP/443", "TCP/8080"])
        // No policies: every cell allowed, and `expect` omitted means "follow the model".
        #expect(t.cells(ofProbeStep: 1).allSatisfy { $0.verdict.decision == .allow && $0.expected == .model })
    }

    /// With `default` and exceptions, a pod to itself is not checked unless listed.
    @Test func exceptionsExpectation() throws {
        let t = try timeline(
            T.scenario(
                steps: """
                    - probe: {ports: [TCP/80]}
                      expect:
                        default: deny
                        allow: [{from: prod/api, to: prod/web, port: TCP/80}]
                    """))
        let probe = try #require(t.probes[1])
        let port = ProtocolPort(.tcp, 80)
        #expect(
            probe.explicitExpectation(from: ObjectKey("prod", "api"), to: .pod(ObjectKey("prod", "web")), port: port) == .explicit(.allow))
        #expect(
            probe.explicitExpectation(from: ObjectKey("prod", "web"), to: .pod(ObjectKey("prod", "api")), port: port) == .explicit(.deny))
        #expect(probe.explicitExpectation(from: ObjectKey("prod", "web"), to: .pod(ObjectKey("prod", "web")), port: port) == .ignored)
        // No policy isolates anything, so the model allows web -> api: the file's deny disagrees.
        #expect(!ModelReport.build(t).passed)
    }
}
