import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import KeycardValues
import Testing

/// Rules grow with policies × rules × ports, never with pods: pods only add set elements.
struct RuleGrowthTests {
    /// `podCount` pods in namespace `app` on `nodeCount` nodes: every tenth is {role: server},
    /// the others {role: client, group: gN} with N = index % 7. Addresses 10.100.x.y.
    static func scaledCluster(pods podCount: Int, policies: [NetworkPolicy]) -> (Cluster, [ObjectKey: Int]) {
        var cluster = Cluster()
        cluster.namespaces["app"] = Namespace(name: "app", labels: ["team": "app"])
        var nodes: [ObjectKey: Int] = [:]
        for index in 0..<podCount {
            let labels: Labels = index % 10 == 0 ? ["role": "server"] : ["role": "client", "group": "g\(index % 7)"]
            let pod = Pod(namespace: "app", name: "p\(index)", labels: labels, ports: [ContainerPort(name: "http", port: 8080)])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0A64_0000 + UInt32(index) + 1)
            nodes[pod.key] = index % 2
        }
        for policy in policies { cluster.policies[policy.key] = policy }
        return (cluster, nodes)
    }

    /// `count` ingress policies on the servers, each with `rules` rules of `ports` numbered ports.
    static func policies(_ count: Int, rules: Int, ports: Int) -> [NetworkPolicy] {
        (0..<count).map { index in
            policy(
                "app", "p\(index)", select: labels(["role": "server"]),
                ingress: (0..<rules).map { rule in
                    allow([.pods(labels(["group": "g\((index + rule) % 7)"]))], ports: (0..<ports).map { .tcp(9000 + $0) })
                })
        }
    }

    static func ruleCount(_ table: Table) -> Int { table.chains.map(\.rules.count).reduce(0, +) }
    static func elementCount(_ table: Table) -> Int { table.sets.map(\.normalizedElements.count).reduce(0, +) }

    struct Shape: Sendable, CustomTestStringConvertible {
        let policies: Int
        let rules: Int
        let ports: Int
        var testDescription: String { "\(policies) policies × \(rules) rules × \(ports) ports" }
    }

    static let shapes = [
        Shape(policies: 1, rules: 1, ports: 1), Shape(policies: 2, rules: 3, ports: 2), Shape(policies: 5, rules: 2, ports: 3),
    ]

    @Test(arguments: shapes)
    func podPlacementRulesArePoliciesTimesRulesTimesPorts(_ shape: Shape) throws {
        let (cluster, nodes) = Self.scaledCluster(pods: 20, policies: Self.policies(shape.policies, rules: shape.rules, ports: shape.ports))
        let tables = PolicyCompiler(labName: "grow", placement: .pod).compile(cluster, nodes: nodes, nodeCount: 2)
        let server = try #require(tables[.pod(ObjectKey("app", "p0"))])
        let ingress = try #require(server.chain(named: "policy-ingress"))
        // established + loopback + one per (policy, rule, port) + default deny.
        #expect(ingress.rules.count == 2 + shape.policies * shape.rules * shape.ports + 1)
        #expect(server.chain(named: "policy-egress")?.rules.isEmpty == true, "egress is not isolated: no rules")
        // An unselected pod of the namespace carries the same rules, gated off by its empty
        // selection sets, so that a relabel only moves elements.
        let client = try #require(tables[.pod(ObjectKey("app", "p1"))])
        #expect(client.chain(named: "policy-ingress")?.rules.count == ingress.rules.count)
        #expect(client.set(named: "policy-ingress-isolated")?.elements.isEmpty == true, "the unselected pod is not isolated")
        #expect(server.set(named: "policy-ingress-isolated")?.elements.isEmpty == false, "the server is")
    }

    @Test(arguments: shapes)
    func nodePlacementRulesArePoliciesTimesRulesTimesPorts(_ shape: Shape) throws {
        let (cluster, nodes) = Self.scaledCluster(pods: 20, policies: Self.policies(shape.policies, rules: shape.rules, ports: shape.ports))
        let tables = PolicyCompiler(labName: "grow", placement: .node).compile(cluster, nodes: nodes, nodeCount: 2)
        let node = try #require(tables[.node(0)])
        #expect(node.chain(named: "forward")?.rules.count == 5, "absent pods both ways, established, a jump per direction")
        #expect(node.chain(named: "policy-ingress")?.rules.count == shape.policies * shape.rules * shape.ports + 1)
        #expect(node.chain(named: "policy-egress")?.rules.count == 1, "only the (unreached) default deny")
    }

    @Test(arguments: Placement.allCases)
    func tenOrAThousandPodsCompileToTheSameRules(_ placement: Placement) throws {
        let policies =
            Self.policies(4, rules: 2, ports: 2) + [
                policy(
                    "app", "named", select: labels(["role": "server"]),
                    ingress: [allow([.pods(labels(["role": "client"]))], ports: [.named("http")])]),
                policy(
                    "app", "egress", select: labels(["role": "client"]), types: [.egress],
                    egress: [allow([.pods(labels(["role": "server"]))], ports: [.named("http"), .udp(53)])]),
            ]
        let compiler = PolicyCompiler(labName: "grow", placement: placement)
        let (small, smallNodes) = Self.scaledCluster(pods: 10, policies: policies)
        let (large, largeNodes) = Self.scaledCluster(pods: 1_000, policies: policies)
        let few = compiler.compile(small, nodes: smallNodes, nodeCount: 2)
        let many = compiler.compile(large, nodes: largeNodes, nodeCount: 2)
        // Same rules (the same Rule values, not only their number) in every table both clusters share.
        let shared = Set(few.keys).intersection(many.keys)
        #expect(shared.count == (placement == .pod ? 10 : 2))
        for target in shared.sorted() {
            let (a, b) = (try #require(few[target]), try #require(many[target]))
            #expect(Self.ruleCount(a) == Self.ruleCount(b), "\(target)")
            #expect(a.chains.map(\.rules) == b.chains.map(\.rules), "\(target)")
            #expect(a.sets.map(\.name) == b.sets.map(\.name), "\(target)")
        }
        // What does grow with pods: set elements.
        let target: RulesetTarget = placement == .pod ? .pod(ObjectKey("app", "p0")) : .node(0)
        #expect(Self.elementCount(try #require(many[target])) > 10 * Self.elementCount(try #require(few[target])))
        #expect(Self.ruleCount(try #require(many[target])) > 5, "the policies did compile to rules")
    }
}
