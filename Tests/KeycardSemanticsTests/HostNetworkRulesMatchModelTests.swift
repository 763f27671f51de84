import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// Connections to and from host-network pods, judged by the compiled rules as the kernel meets
/// them, must get the model's verdict in both placements and both `nodeIngress` settings, over many
/// random clusters whose policies' selectors often match the host-network pods' labels.
///
/// The lab has no table for a host-network pod (it has no namespace of its own): the compiler is
/// given only the other pods' nodes, as `AddressPlan.podNamespaceNodes`. A pod's connection to a
/// host-network pod goes to the node's address: in pod placement it leaves through the pod's
/// `output` chain; in node placement it crosses the source node's `forward` hook when the
/// destination is another node, else it ends in its own node's `input` hook. A host-network pod's
/// connection leaves from its node's `output` hook, as a node's does.
@Suite("Host-network pods: compiled rules implement the model")
struct HostNetworkRulesMatchModelTests {
    static func outcome(
        _ tables: [RulesetTarget: Table], _ target: RulesetTarget, _ hook: BaseChain.Hook, _ packet: RulesetInterpreter.Packet
    )
        -> RulesetInterpreter.Outcome
    {
        tables[target].map { RulesetInterpreter(table: $0).verdict(hook, packet) } ?? .accept
    }

    /// A pod (with a namespace) to a host-network pod on `hostNode`.
    static func toHost(
        _ tables: [RulesetTarget: Table], _ placement: Placement, _ cluster: Cluster, _ nodes: [ObjectKey: Int],
        from source: ObjectKey, hostNode: Int, port: ProtocolPort
    ) -> Decision {
        guard let saddr = cluster.addresses[source], let sourceNode = nodes[source] else { return .deny }
        let packet = RulesetInterpreter.Packet(
            saddr: saddr.value, daddr: LabNetwork.nodeAddress(hostNode).value, proto: port.proto.number, dport: UInt16(port.port))
        var outcomes: [RulesetInterpreter.Outcome] = []
        switch placement {
        case .pod:
            outcomes.append(outcome(tables, .pod(source), .output, packet))
        case .node:
            if sourceNode == hostNode {
                outcomes.append(outcome(tables, .node(hostNode), .input, packet))
            } else {
                outcomes.append(outcome(tables, .node(sourceNode), .forward, packet))
                outcomes.append(outcome(tables, .node(hostNode), .input, packet))
            }
        }
        return outcomes.allSatisfy { $0 == .accept } ? .allow : .deny
    }

    /// A host-network pod on `hostNode` to a pod.
    static func fromHost(
        _ tables: [RulesetTarget: Table], _ placement: Placement, _ cluster: Cluster, _ nodes: [ObjectKey: Int],
        hostNode: Int, to destination: ObjectKey, port: ProtocolPort
    ) -> Decision {
        guard let daddr = cluster.addresses[destination], let podNode = nodes[destination] else { return .deny }
        let packet = RulesetInterpreter.Packet(
            saddr: LabNetwork.nodeAddress(hostNode).value, daddr: daddr.value, proto: port.proto.number, dport: UInt16(port.port))
        var outcomes: [RulesetInterpreter.Outcome] = []
        switch placement {
        case .pod:
            outcomes.append(outcome(tables, .pod(destination), .input, packet))
        case .node:
            outcomes.append(outcome(tables, .node(hostNode), .output, packet))
            if podNode != hostNode { outcomes.append(outcome(tables, .node(podNode), .forward, packet)) }
        }
        return outcomes.allSatisfy { $0 == .accept } ? .allow : .deny
    }

    @Test(arguments: Placement.allCases, NodeIngress.allCases)
    func randomClusters(_ placement: Placement, _ nodeIngress: NodeIngress) {
        var checked = 0
        var denied = 0
        for seed in UInt64(1)...100 {
            var generator = RandomCluster(seed: seed)
            var (cluster, nodes) = generator.make(policies: Int(seed % 5) + 1)
            cluster.nodeCount = 2
            // One host-network pod per node, labelled like ordinary pods so selectors would match it.
            var hosts: [(ObjectKey, Int)] = []
            var everyNode = nodes
            for node in 0..<2 {
                var pod = Pod(
                    namespace: generator.pick(generator.namespaces), name: "host-\(node)", labels: ["app": generator.pick(generator.apps)],
                    ports: [ContainerPort(name: "http", port: 80)])
                pod.hostNetwork = true
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = LabNetwork.nodeAddress(node)
                everyNode[pod.key] = node
                hosts.append((pod.key, node))
            }
            cluster.podNodes = everyNode
            cluster.nodeIngress = nodeIngress
            if seed % 3 == 0 {
                // Some policies admit the node range by ipBlock, both ways.
                let block = NetworkPolicy.Peer(ipBlock: .init(cidr: .ipv4(IPv4(0x6440_0000), 29)))
                let policy = NetworkPolicy(
                    namespace: cluster.sortedPods[0].namespace, name: "nodes", policyTypes: [.ingress, .egress],
                    ingress: [.init(peers: [block])], egress: [.init(peers: [block])])
                cluster.policies[policy.key] = policy
            }
            let tables = PolicyCompiler(labName: "sem", placement: placement).compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for pod in cluster.sortedPods where !pod.hostNetwork {
                for (host, hostNode) in hosts {
                    for port in CompiledRulesMatchModelTests.ports {
                        let to = engine.evaluate(from: .pod(pod.key), to: .pod(host), port: port)
                        let realTo = Self.toHost(tables, placement, cluster, nodes, from: pod.key, hostNode: hostNode, port: port)
                        let from = engine.evaluate(from: .pod(host), to: .pod(pod.key), port: port)
                        let realFrom = Self.fromHost(tables, placement, cluster, nodes, hostNode: hostNode, to: pod.key, port: port)
                        checked += 2
                        denied += (to.decision == .deny ? 1 : 0) + (from.decision == .deny ? 1 : 0)
                        #expect(to.ingress.outcome == .notIsolated, "seed \(seed): \(host) is never isolated")
                        #expect(to.decision == realTo, "seed \(seed): \(pod.key) -> \(host) \(port): model \(to.decision), rules \(realTo)")
                        #expect(
                            from.decision == realFrom,
                            "seed \(seed): \(host) -> \(pod.key) \(port): model \(from.decision), rules \(realFrom)")
                        if to.decision != realTo || from.decision != realFrom { return }
                    }
                }
            }
        }
        #expect(checked > 2_000)
        #expect(denied > checked / 20 && denied < checked * 19 / 20, "both outcomes occur: \(denied) of \(checked) denied")
    }
}
