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
        return (PolicyGenerator(cluster, keycardPods: timeline.keycardPods), observed)
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

    /// A canary beside its stable workload (`api` {app: api}, `api-canary` {app: api, track:
    /// canary}): `{app: api}` alone matches the canary's pods too (a selector matches every pod
    /// whose labels include its matchLabels), so the API's policy would isolate the canary and the
    /// database's rule "from {app: api}" would let the canary in (review: /tmp/rv-B/app5).
    static let canary = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: generator-canary}
        spec:
          resources:
            - {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: default}, spec: {replicas: 1, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}}}}
            - {apiVersion: apps/v1, kind: Deployment, metadata: {name: api-canary, namespace: default}, spec: {replicas: 1, selector: {matchLabels: {app: api, track: canary}}, template: {metadata: {labels: {app: api, track: canary}}, spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}}}}
            - {apiVersion: apps/v1, kind: Deployment, metadata: {name: db, namespace: default}, spec: {replicas: 1, selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: tool, namespace: default}, spec: {containers: [{name: c, image: x}]}}
          steps:
            - probe: {from: [default/deployment/api], to: [default/deployment/db], ports: [TCP/5432]}
        """

    @Test func aGroupIsSelectedWithoutTheKeysOfAWiderGroupOfItsNamespace() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.canary, file: "generator-canary.yaml")
        let cluster = timeline.cluster(afterStep: 1)
        func pod(_ workload: String) throws -> Pod {
            try #require(cluster.sortedPods.first { $0.owner?.workload.name == workload })
        }
        let api = try pod("api")
        let canary = try pod("api-canary")
        let db = try pod("db")
        let generator = PolicyGenerator(timeline)
        let flows: Set<ObservedFlow> = [
            ObservedFlow(from: api.key, to: db.key, port: ProtocolPort(.tcp, 5432)),
            ObservedFlow(from: db.key, to: api.key, port: ProtocolPort(.tcp, 8080)),
        ]
        let policies = generator.policies(flows)
        let apiPolicy = try #require(policies.first { $0.name == "keycard-api" })
        let narrowed = LabelSelector(matchLabels: ["app": "api"], matchExpressions: [.init(key: "track", operator: .doesNotExist)])
        #expect(apiPolicy.podSelector == narrowed)
        // Exactly the API's pod: not the canary's, whose own policy selects it.
        #expect(cluster.sortedPods.filter { apiPolicy.podSelector.matches($0.labels) }.map(\.key) == [api.key])
        let canaryPolicy = try #require(policies.first { $0.name == "keycard-api-canary" })
        #expect(canaryPolicy.podSelector == LabelSelector(matchLabels: ["app": "api", "track": "canary"]))
        // The same selector names the API as a peer: the database's rule does not let the canary in.
        let dbPolicy = try #require(policies.first { $0.name == "keycard-db" })
        #expect(dbPolicy.ingress?.map { $0.peers?.first?.podSelector } == [narrowed])
        // db and api have no label key the other lacks beside all of its own: plain selectors.
        #expect(dbPolicy.podSelector == LabelSelector(matchLabels: ["app": "db"]))
        // The unlabelled pod lacks every key, the canary's `track` too.
        let tool = try #require(policies.first { $0.name == "keycard-tool" })
        #expect(tool.podSelector.matchLabels.isEmpty)
        #expect(tool.podSelector.matchExpressions.map(\.key) == ["app", "track"])
        #expect(cluster.sortedPods.filter { tool.podSelector.matches($0.labels) }.map(\.name) == ["tool"])

        // With the policies in place the model allows exactly what the generator intends.
        var proved = cluster
        proved.policies = Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) })
        let engine = PolicyEngine(proved)
        let intended = generator.intends(flows)
        for from in cluster.sortedPods {
            for to in cluster.sortedPods where to.key != from.key {
                for port in [ProtocolPort(.tcp, 5432), ProtocolPort(.tcp, 8080)] {
                    let flow = ObservedFlow(from: from.key, to: to.key, port: port)
                    let verdict = engine.evaluate(from: .pod(from.key), to: .pod(to.key), port: port).decision
                    #expect((verdict == .allow) == intended(flow), "\(flow)")
                }
            }
        }
        #expect(engine.evaluate(from: .pod(canary.key), to: .pod(db.key), port: ProtocolPort(.tcp, 5432)).decision == .deny)
        #expect(engine.evaluate(from: .pod(db.key), to: .pod(canary.key), port: ProtocolPort(.tcp, 8080)).decision == .deny)
    }
    /// A named port is resolved on each pod a rule selects: `port: http` where `http` is 8080 on
    /// one backend and 8081 on the other opened w1:8080 and w2:8081 only, though the group's
    /// policies mean both numbers for both (`intends`), and where a backend lacks the name, shut
    /// it out. A rule names a port only when every pod of the destination's group gives that
    /// name to the observed number; else the number.
    @Test func aPortIsNamedOnlyWhenEveryPodOfTheGroupNamesItSo() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: gen}
            spec:
              lab: {nodes: 2}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: w1, namespace: x, labels: {app: w}}, spec: {nodeName: node-0, containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: w2, namespace: x, labels: {app: w}}, spec: {nodeName: node-1, containers: [{name: c, image: i, ports: [{containerPort: 8081, name: http}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: u1, namespace: x, labels: {app: u}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 9090, name: metrics}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: u2, namespace: x, labels: {app: u}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 9090}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: s1, namespace: x, labels: {app: s}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 7070, name: grpc}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: s2, namespace: x, labels: {app: s}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 7070, name: grpc}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: cl, namespace: x, labels: {app: cl}}, spec: {nodeName: node-0, containers: [{name: c, image: i}]}}
              steps:
                - probe: {from: [x/cl], to: [x/w1], ports: [TCP/8080]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "gen.yaml")
        let client = ObjectKey("x", "cl")
        let flows: Set<ObservedFlow> = [
            ObservedFlow(from: client, to: ObjectKey("x", "w1"), port: ProtocolPort(.tcp, 8080)),
            ObservedFlow(from: client, to: ObjectKey("x", "w2"), port: ProtocolPort(.tcp, 8081)),
            ObservedFlow(from: client, to: ObjectKey("x", "u1"), port: ProtocolPort(.tcp, 9090)),
            ObservedFlow(from: client, to: ObjectKey("x", "s1"), port: ProtocolPort(.tcp, 7070)),
        ]
        let policies = PolicyGenerator(timeline).policies(flows)
        func ingress(_ name: String) throws -> [NetworkPolicy.Port] {
            try #require(policies.first { $0.name == name }?.ingress?.first?.ports)
        }
        // http is two numbers in w's group: numbers.
        #expect(try ingress("keycard-w") == [.init(proto: .tcp, port: .number(8080)), .init(proto: .tcp, port: .number(8081))])
        // u2 does not name 9090: the number.
        #expect(try ingress("keycard-u") == [.init(proto: .tcp, port: .number(9090))])
        // Every pod of s names 7070 grpc: the name.
        #expect(try ingress("keycard-s") == [.init(proto: .tcp, port: .name("grpc"))])
        let yaml = PolicyYAML.render(policies)
        #expect(!yaml.contains("port: \"http\"") && !yaml.contains("port: \"metrics\""), "\(yaml)")

        // With the policies in place the model allows exactly what the generator intends.
        let cluster = timeline.cluster(afterStep: 1)
        var proved = cluster
        proved.policies = Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) })
        let engine = PolicyEngine(proved)
        let intended = PolicyGenerator(timeline).intends(flows)
        for to in ["w1", "w2", "u1", "u2", "s1", "s2"].map({ ObjectKey("x", $0) }) {
            for port in [8080, 8081, 9090, 7070].map({ ProtocolPort(.tcp, $0) }) {
                let flow = ObservedFlow(from: client, to: to, port: port)
                let verdict = engine.evaluate(from: .pod(client), to: .pod(to), port: port).decision
                #expect((verdict == .allow) == intended(flow), "\(flow)")
            }
        }
    }

    /// Policy names came from label values and workload names as they were: an upper-case or
    /// `_` label value, or a 253-character pod name, gave a name the API server refuses
    /// (NetworkPolicy names are DNS-1123 subdomains).
    @Test func policyNamesAreDNSSubdomains() throws {
        let long =
            String(repeating: "a", count: 60) + "." + String(repeating: "b", count: 60) + "." + String(repeating: "c", count: 60)
            + "." + String(repeating: "d", count: 70)
        #expect(long.utf8.count == 253)
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: gen-names}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: p1, namespace: x, labels: {app: Web_Front}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: p2, namespace: x, labels: {app: web-front, tier: a}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: p3, namespace: x, labels: {app: v1._Beta}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: \(long), namespace: x, labels: {k: v}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: \(long.dropLast(2))z9, namespace: x, labels: {k: w}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - probe: {from: [x/p1], to: [x/p2], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "gen-names.yaml")
        let names = PolicyGenerator(timeline).policies([]).map(\.name)
        #expect(names.count == 5)
        for name in names { #expect(NameRules.dns1123SubdomainProblem(name) == nil, "\(name)") }
        #expect(Set(names).count == names.count)
        #expect(
            names.contains("keycard-web-front") && names.contains("keycard-web-front-2") && names.contains("keycard-v1.beta"), "\(names)")
        #expect(names.filter { $0.utf8.count == 253 }.count == 2, "\(names)")
    }
}
