import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The local-node rule in the compiled tables (`spec.lab.nodeIngress`): which placement needs what.
@Suite("Local-node rule compiler")
struct LocalNodeCompilerTests {
    /// shop/web on node-0 and shop/api on node-1, both isolated for ingress by a default deny.
    static func cluster(_ nodeIngress: NodeIngress) -> Cluster {
        var cluster = Cluster()
        cluster.nodeCount = 2
        cluster.nodeIngress = nodeIngress
        cluster.namespaces["shop"] = Namespace(name: "shop")
        for (index, name) in ["web", "api"].enumerated() {
            let pod = Pod(namespace: "shop", name: name, labels: ["app": name])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
            cluster.podNodes[pod.key] = index
        }
        let deny = NetworkPolicy(namespace: "shop", name: "deny", policyTypes: [.ingress])
        cluster.policies[deny.key] = deny
        return cluster
    }

    static let nodes = [ObjectKey("shop", "web"): 0, ObjectKey("shop", "api"): 1]

    @Test func podPlacementAcceptsOnlyTheOwnNodeWithAllow() throws {
        let tables = PolicyCompiler(labName: "t", placement: .pod).compile(Self.cluster(.allow), nodes: Self.nodes, nodeCount: 2)
        let web = try #require(tables[.pod(ObjectKey("shop", "web"))]).nftText()
        let api = try #require(tables[.pod(ObjectKey("shop", "api"))]).nftText()
        #expect(web.contains("ip saddr 100.64.0.2 accept comment \"the pod's own node"))
        #expect(!web.contains("100.64.0.6"))
        #expect(api.contains("ip saddr 100.64.0.6 accept"))
        #expect(!api.contains("100.64.0.2"))
        // Before the NetworkPolicy tier: the rule decides whatever the policies say.
        let lines = web.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let accept = try #require(lines.firstIndex { $0.hasPrefix("ip saddr 100.64.0.2 accept") })
        let tier = try #require(lines.firstIndex { $0.hasPrefix("jump np-ingress") })
        #expect(accept < tier)
    }

    @Test func policySettingAddsNothingInPodPlacement() {
        let tables = PolicyCompiler(labName: "t", placement: .pod).compile(Self.cluster(.policy), nodes: Self.nodes, nodeCount: 2)
        for table in tables.values { #expect(!table.nftText().contains("100.64.0.")) }
    }

    @Test func nodePlacementJudgesTheNodesOwnConnectionsOnlyWithPolicy() throws {
        let compiler = PolicyCompiler(labName: "t", placement: .node)
        let allow = compiler.compile(Self.cluster(.allow), nodes: Self.nodes, nodeCount: 2)
        #expect(allow.values.allSatisfy { !$0.chains.contains { $0.name == "local-node" } }, "forward never sees them: allowed")
        let policy = compiler.compile(Self.cluster(.policy), nodes: Self.nodes, nodeCount: 2)
        let node0 = try #require(policy[.node(0)])
        let chain = try #require(node0.chains.first { $0.name == "local-node" })
        #expect(chain.base?.hook == .output)
        let text = node0.nftText()
        #expect(text.contains("ip daddr vmap @in-pods comment \"the node's own connections to its isolated pods\""))
        // The incremental compiler builds the same tables.
        let incremental = IncrementalCompiler(compiler: compiler, cluster: Self.cluster(.policy), nodes: Self.nodes, nodeCount: 2)
        #expect(incremental.tables[.node(0)]?.nftText() == text)
    }

    /// A cluster without the lab's placement (no pod's node known) compiles as before.
    @Test func unknownNodeAddsNoRule() {
        var cluster = Self.cluster(.allow)
        cluster.podNodes = [:]
        let tables = PolicyCompiler(labName: "t", placement: .pod).compile(cluster, nodes: Self.nodes, nodeCount: 2)
        for table in tables.values { #expect(!table.nftText().contains("100.64.0.")) }
    }
}
