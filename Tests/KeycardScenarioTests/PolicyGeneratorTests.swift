import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// `keycard generate`'s policies where a pod cannot be selected by labels alone (review of real
/// applications): the cluster DNS pod gets no policy, a host-network peer is its node's address,
/// and pods without labels are selected by the label keys they lack, never by `{}`.
@Suite struct PolicyGeneratorTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: generator}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: monitoring}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: default}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: tool, namespace: default}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 6379}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: prom, namespace: monitoring, labels: {app: prom, tier: ops}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: exporter, namespace: monitoring, labels: {app: exporter}}, spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{name: metrics, containerPort: 9100}]}]}}
          steps:
            - probe: {from: [default/web], to: [default/db], ports: [TCP/5432]}
        """

    static func generated(_ flows: [(String, String, ProtocolPort)]) throws -> (PolicyGenerator, Set<ObservedFlow>) {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "generator.yaml")
        let cluster = timeline.cluster(afterStep: 1)
        var observed: Set<ObservedFlow> = []
        for (from, to, port) in flows {
            observed.insert(ObservedFlow(from: try #require(ObjectKey.parse(from)), to: try #require(ObjectKey.parse(to)), port: port))
        }
        return (PolicyGenerator(cluster), observed)
    }

    @Test func theClusterDNSPodGetsNoPolicyWhenFlowsNameIt() throws {
        let dns = ClusterDNS.podKey.description
        let (generator, flows) = try Self.generated([("default/web", dns, ProtocolPort(.udp, 53))])
        let policies = generator.policies(flows)
        #expect(!policies.contains { $0.namespace == ClusterDNS.podKey.namespace })
        // The client keeps its egress to DNS.
        let web = try #require(policies.first { $0.name == "keycard-web" })
        #expect(web.egress?.first?.peers?.first?.podSelector?.matchLabels["k8s-app"] == "kube-dns")
    }

    @Test func aHostNetworkPeerIsItsNodeAddress() throws {
        let (generator, flows) = try Self.generated([
            ("monitoring/prom", "monitoring/exporter", ProtocolPort(.tcp, 9100)),
            ("monitoring/exporter", "default/web", ProtocolPort(.tcp, 80)),
        ])
        let policies = generator.policies(flows)
        #expect(!policies.contains { $0.name == "keycard-exporter" })
        let node = try #require(generator.nodeAddress(of: ObjectKey("monitoring", "exporter")))
        let prom = try #require(policies.first { $0.name == "keycard-prom" })
        let egress = try #require(prom.egress?.first)
        #expect(egress.peers?.first?.ipBlock?.cidr == CIDR.ipv4(node, 32))
        // By number: a named port is the destination pod's, and a node is no pod.
        #expect(egress.ports?.first?.port == .number(9100))
        let web = try #require(policies.first { $0.name == "keycard-web" })
        #expect(web.ingress?.first?.peers?.first?.ipBlock?.cidr == CIDR.ipv4(node, 32))
        #expect(generator.notes(flows).contains { $0.hasPrefix("monitoring/exporter runs in its node's network") })
        let yaml = PolicyYAML.render(policies)
        #expect(yaml.contains("- ipBlock: {cidr: \"\(node)/32\"}"), "\(yaml)")
    }

    @Test func podsWithoutLabelsAreSelectedByTheKeysTheyLack() throws {
        let (generator, flows) = try Self.generated([("default/web", "default/db", ProtocolPort(.tcp, 5432))])
        let policies = generator.policies(flows)
        let unlabelled = try #require(policies.first { $0.namespace == "default" && $0.podSelector.matchLabels.isEmpty })
        #expect(unlabelled.podSelector.matchExpressions == [.init(key: "app", operator: .doesNotExist)])
        // It selects db and tool, not web; an empty selector would have picked web too.
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "generator.yaml")
        let cluster = timeline.cluster(afterStep: 1)
        let selected = cluster.sortedPods.filter { $0.namespace == "default" && unlabelled.podSelector.matches($0.labels) }.map(\.name)
        #expect(selected == ["db", "tool"])
        let web = try #require(policies.first { $0.name == "keycard-web" })
        #expect(web.egress?.first?.peers?.first?.podSelector?.matchExpressions == [.init(key: "app", operator: .doesNotExist)])
        #expect(generator.notes(flows).contains { $0.contains("default/db, default/tool have no labels") })
        let yaml = PolicyYAML.render(policies)
        #expect(yaml.contains("- {key: \"app\", operator: DoesNotExist}"), "\(yaml)")
    }
}
