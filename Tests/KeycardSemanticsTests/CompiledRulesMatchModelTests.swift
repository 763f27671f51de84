import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The compiled nftables rules, evaluated by an interpreter of the ruleset values, must give the
/// policy model's verdict for every connection — in both placements — over many random clusters.
@Suite("Compiled rules implement the model")
struct CompiledRulesMatchModelTests {
    /// ICMP echo too: a rule without ports admits it (in the kernel `th dport` reads the ICMP
    /// checksum, which every any-port box holds), a rule with ports never does.
    static let ports = [
        ProtocolPort(.tcp, 80), ProtocolPort(.tcp, 8080), ProtocolPort(.udp, 53), ProtocolPort(.tcp, 81),
        ProtocolPort(.sctp, 80), ProtocolPort(.tcp, 53), .icmpEcho,
    ]

    /// What the tables of `placement` do with a connection from `source` to `destination`.
    static func interpreted(
        _ tables: [RulesetTarget: Table], _ placement: Placement, _ cluster: Cluster, _ nodes: [ObjectKey: Int],
        from source: ObjectKey, to destination: Endpoint, port: ProtocolPort
    ) -> Decision {
        guard let saddr = cluster.addresses[source], let daddr = cluster.address(of: destination) else { return .deny }
        let packet = RulesetInterpreter.Packet(saddr: saddr.value, daddr: daddr.value, proto: port.proto.number, dport: UInt16(port.port))
        var outcomes: [RulesetInterpreter.Outcome] = []
        switch placement {
        case .pod:
            outcomes.append(tables[.pod(source)].map { RulesetInterpreter(table: $0).verdict(.output, packet) } ?? .accept)
            if case .pod(let key) = destination {
                outcomes.append(tables[.pod(key)].map { RulesetInterpreter(table: $0).verdict(.input, packet) } ?? .accept)
            }
        case .node:
            let sourceNode = nodes[source] ?? 0
            outcomes.append(tables[.node(sourceNode)].map { RulesetInterpreter(table: $0).verdict(.forward, packet) } ?? .accept)
            if case .pod(let key) = destination, let destinationNode = nodes[key], destinationNode != sourceNode {
                outcomes.append(tables[.node(destinationNode)].map { RulesetInterpreter(table: $0).verdict(.forward, packet) } ?? .accept)
            }
        }
        return outcomes.allSatisfy { $0 == .accept } ? .allow : .deny
    }

    @Test(arguments: Placement.allCases)
    func randomClusters(_ placement: Placement) {
        var checked = 0
        var denied = 0
        for seed in UInt64(1)...150 {
            var generator = RandomCluster(seed: seed)
            let (cluster, nodes) = generator.make(policies: Int(seed % 5))
            let tables = PolicyCompiler(labName: "sem", placement: placement).compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for source in cluster.sortedPods {
                let destinations = cluster.sortedPods.map { Endpoint.pod($0.key) } + [.external("ext")]
                for destination in destinations where destination != .pod(source.key) {
                    for port in Self.ports {
                        let model = engine.evaluate(from: .pod(source.key), to: destination, port: port).decision
                        let real = Self.interpreted(tables, placement, cluster, nodes, from: source.key, to: destination, port: port)
                        checked += 1
                        if model == .deny { denied += 1 }
                        #expect(model == real, "seed \(seed): \(source.key) -> \(destination) \(port): model \(model), rules \(real)")
                        if model != real { return }
                    }
                }
            }
        }
        // Both outcomes occur, so the comparison means something.
        #expect(checked > 10_000)
        #expect(denied > checked / 10 && denied < checked * 9 / 10)
    }

    /// The meet installed between two rulesets accepts exactly what both accept.
    @Test(arguments: Placement.allCases)
    func meetAcceptsExactlyWhatBothAccept(_ placement: Placement) {
        var compared = 0
        for seed in UInt64(1)...80 {
            var first = RandomCluster(seed: seed)
            let (old, nodes) = first.make(policies: 3)
            var second = RandomCluster(seed: seed)
            var (new, _) = second.make(policies: 3)
            // A different policy set, and one relabel, over the same pods.
            var changer = RandomCluster(seed: seed &+ 1000)
            new.policies = [:]
            for index in 0..<3 { let policy = changer.makePolicy(index); new.policies[policy.key] = policy }
            if let pod = new.sortedPods.first { new.pods[pod.key]?.labels = ["app": changer.pick(changer.apps)] }
            let compiler = PolicyCompiler(labName: "sem", placement: placement)
            let oldTables = compiler.compile(old, nodes: nodes, nodeCount: 2)
            let newTables = compiler.compile(new, nodes: nodes, nodeCount: 2)
            let addresses = old.addresses.values.map(\.value) + [0xC000_020A]
            for (target, oldTable) in oldTables {
                guard let newTable = newTables[target] else { continue }
                let meet = oldTable.meet(newTable)
                for hook in [BaseChain.Hook.input, .output, .forward] {
                    for saddr in addresses {
                        for daddr in addresses where daddr != saddr {
                            for port in CompiledRulesMatchModelTests.ports {
                                let packet = RulesetInterpreter.Packet(
                                    saddr: saddr, daddr: daddr, proto: port.proto.number, dport: UInt16(port.port))
                                let both =
                                    RulesetInterpreter(table: oldTable).verdict(hook, packet) == .accept
                                    && RulesetInterpreter(table: newTable).verdict(hook, packet) == .accept
                                let met = RulesetInterpreter(table: meet).verdict(hook, packet) == .accept
                                compared += 1
                                #expect(met == both, "seed \(seed) \(target) \(hook): meet \(met), old∧new \(both)")
                                if met != both { return }
                            }
                        }
                    }
                }
            }
        }
        #expect(compared > 10_000)
    }
}
