import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// Connections a node opens to pods (`node/node-i`), judged by the compiled rules as the kernel
/// would meet them, must get the model's verdict in both placements and both `nodeIngress`
/// settings, over many random clusters. A node's own connection leaves through its namespace's
/// `output` hook: to a pod on that node it meets the node table's `output` chain (node placement)
/// and the pod's `input` chain (pod placement); to a pod on another node it crosses that node's
/// `forward` chain (node placement) and the pod's `input` chain (pod placement).
@Suite("Node sources: compiled rules implement the model")
struct NodeSourceRulesMatchModelTests {
    static func interpreted(
        _ tables: [RulesetTarget: Table], _ placement: Placement, _ cluster: Cluster, _ nodes: [ObjectKey: Int],
        fromNode node: Int, to pod: ObjectKey, port: ProtocolPort
    ) -> Decision {
        guard let daddr = cluster.addresses[pod], let podNode = nodes[pod] else { return .deny }
        let packet = RulesetInterpreter.Packet(
            saddr: LabNetwork.nodeAddress(node).value, daddr: daddr.value, proto: port.proto.number, dport: UInt16(port.port))
        let outcome: RulesetInterpreter.Outcome
        switch placement {
        case .pod:
            outcome = tables[.pod(pod)].map { RulesetInterpreter(table: $0).verdict(.input, packet) } ?? .accept
        case .node:
            let hook: BaseChain.Hook = podNode == node ? .output : .forward
            outcome = tables[.node(podNode)].map { RulesetInterpreter(table: $0).verdict(hook, packet) } ?? .accept
        }
        return outcome == .accept ? .allow : .deny
    }

    @Test(arguments: Placement.allCases, NodeIngress.allCases)
    func randomClusters(_ placement: Placement, _ nodeIngress: NodeIngress) {
        var checked = 0
        var denied = 0
        var local = 0
        for seed in UInt64(1)...120 {
            var generator = RandomCluster(seed: seed)
            var (cluster, nodes) = generator.make(policies: Int(seed % 5))
            cluster.nodeCount = 2
            cluster.podNodes = nodes
            cluster.nodeIngress = nodeIngress
            if seed % 3 == 0 {
                // Some policies admit the node network by ipBlock, so node sources are also allowed by rules.
                let policy = NetworkPolicy(
                    namespace: cluster.sortedPods[0].namespace, name: "nodes", policyTypes: [.ingress],
                    ingress: [.init(peers: [.init(ipBlock: .init(cidr: .ipv4(LabNetwork.nodeAddress(1), 32)))])])
                cluster.policies[policy.key] = policy
            }
            let tables = PolicyCompiler(labName: "sem", placement: placement).compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for node in 0..<2 {
                for pod in cluster.sortedPods {
                    for port in CompiledRulesMatchModelTests.ports {
                        let verdict = engine.evaluate(from: .node("node-\(node)"), to: .pod(pod.key), port: port)
                        let real = Self.interpreted(tables, placement, cluster, nodes, fromNode: node, to: pod.key, port: port)
                        checked += 1
                        if verdict.decision == .deny { denied += 1 }
                        if verdict.ingress.outcome == .localNode { local += 1 }
                        #expect(
                            verdict.decision == real,
                            "seed \(seed): node-\(node) -> \(pod.key) \(port) (\(nodeIngress)): model \(verdict.decision), rules \(real)")
                        if verdict.decision != real { return }
                    }
                }
            }
        }
        #expect(checked > 3_000)
        #expect(denied > checked / 20 && denied < checked * 19 / 20, "both outcomes occur: \(denied) of \(checked) denied")
        // The local-node rule decides cells only with allow.
        #expect(nodeIngress == .allow ? local > 100 : local == 0)
    }
}
