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
    func podPlacementRulesDoNotGrowWithPolicies(_ shape: Shape) throws {
        let (cluster, nodes) = Self.scaledCluster(pods: 20, policies: Self.policies(shape.policies, rules: shape.rules, ports: shape.ports))
        let tables = PolicyCompiler(labName: "grow", placement: .pod).compile(cluster, nodes: nodes, nodeCount: 2)
        let server = try #require(tables[.pod(ObjectKey("app", "p0"))])
        // established + loopback + IPv6 (not judged, NP-38) + the jump to the NetworkPolicy tier.
        #expect(server.chain(named: "policy-ingress")?.rules.count == 4)
        // the isolation gate + three lookups + default deny, whatever the policies.
        #expect(server.chain(named: "np-ingress")?.rules.count == 5)
        #expect(server.chain(named: "np-egress")?.rules.count == 5)
        // The policies are in the elements: one exact tuple per distinct (peer, port).
        let peers = Set((0..<shape.policies).flatMap { index in (0..<shape.rules).map { (index + $0) % 7 } })
        let clientsPerGroup = (1..<20).filter { $0 % 10 != 0 }.reduce(into: [Int: Int]()) { $0[$1 % 7, default: 0] += 1 }
        let expected = peers.map { clientsPerGroup[$0] ?? 0 }.reduce(0, +) * shape.ports
        #expect(server.set(named: "in-exact")?.elements.count == expected)
        // An unselected pod of the namespace has the same chains, not isolated, so that a relabel
        // only moves elements.
        let client = try #require(tables[.pod(ObjectKey("app", "p1"))])
        #expect(client.chains.map(\.rules.count) == server.chains.map(\.rules.count))
        #expect(client.set(named: "in-isolated")?.elements.isEmpty == true, "the unselected pod is not isolated")
        #expect(server.set(named: "in-isolated")?.elements.isEmpty == false, "the server is")
    }

    @Test(arguments: shapes)
    func nodePlacementRulesDoNotGrowWithPolicies(_ shape: Shape) throws {
        let (cluster, nodes) = Self.scaledCluster(pods: 20, policies: Self.policies(shape.policies, rules: shape.rules, ports: shape.ports))
        let tables = PolicyCompiler(labName: "grow", placement: .node).compile(cluster, nodes: nodes, nodeCount: 2)
        let node = try #require(tables[.node(0)])
        #expect(node.chain(named: "forward")?.rules.count == 5, "absent pods both ways, established, a verdict map per direction")
        // Two chains (egress, ingress) per pod of the node, four rules each.
        #expect(node.chains.count == 1 + 2 * 10)
        #expect(node.chains.filter { $0.base == nil }.allSatisfy { $0.rules.count == 4 })
        #expect(node.set(named: "in-pods")?.elements.count == 2, "the servers p0 and p10 are on node 0, isolated for ingress")
        #expect(node.set(named: "eg-pods")?.elements.isEmpty == true)
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
        // Same rules (the same Rule values, not only their number) in every chain both clusters'
        // tables share; node placement adds a chain per pod, never rules per policy.
        let shared = Set(few.keys).intersection(many.keys)
        #expect(shared.count == (placement == .pod ? 10 : 2))
        for target in shared.sorted() {
            let (a, b) = (try #require(few[target]), try #require(many[target]))
            for chain in a.chains { #expect(b.chain(named: chain.name) == chain, "\(target) \(chain.name)") }
            #expect(Set(a.sets.map(\.name)).isSubset(of: b.sets.map(\.name)), "\(target)")
        }
        // What does grow with pods: set elements.
        let target: RulesetTarget = placement == .pod ? .pod(ObjectKey("app", "p0")) : .node(0)
        #expect(Self.elementCount(try #require(many[target])) > 10 * Self.elementCount(try #require(few[target])))
        #expect(Self.ruleCount(try #require(few[target])) == (placement == .pod ? 18 : 5 + 4 * 2 * 5), "fixed chains")
    }
}
