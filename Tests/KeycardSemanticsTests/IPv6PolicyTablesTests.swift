import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The lab is IPv4-only (docs/kubernetes-fidelity.md, NP-38): the policy tables are inet tables,
/// which see IPv6 too (a pod's link-local addresses). Pod placement drops it for every pod, isolated
/// or not, before any counted rule (fail closed, never evidence of a policy drop); node placement
/// judges only forwarded traffic, which link-local never is.
@Suite("IPv6 in the policy tables")
struct IPv6PolicyTablesTests {
    /// Every policy table compiled for 60 random clusters in `placement`, named for messages.
    static func tables(_ placement: Placement) -> [(name: String, table: Table)] {
        (UInt64(1)...60).flatMap { seed in
            var generator = RandomCluster(seed: seed)
            let (cluster, nodes) = generator.make(policies: Int(seed % 5))
            let compiled = PolicyCompiler(labName: "six", placement: placement).compile(cluster, nodes: nodes, nodeCount: 2)
            return compiled.map { (name: "seed \(seed) \($0.key)", table: $0.value) }
        }
    }

    static let packets = [UInt8(6), 17, 58].map { RulesetInterpreter.Packet(saddr: 0, daddr: 0, proto: $0, dport: 9999, ipv6: true) }

    @Test func podPlacementDropsIPv6UncountedWhetherAPolicyIsolatesThePodOrNot() {
        let tables = Self.tables(.pod)
        for (name, table) in tables {
            let hooks = Set(table.chains.compactMap(\.base?.hook))
            #expect(!hooks.isEmpty)
            for hook in hooks {
                for packet in Self.packets {
                    #expect(RulesetInterpreter(table: table).verdict(hook, packet) == .drop, "\(name) \(hook) proto \(packet.proto)")
                }
            }
            // The drop is the IPv6 rule's, before any rule that logs or counts (the isolated drop).
            for chain in table.chains where chain.base != nil {
                let drop = chain.rules.firstIndex { $0.matches == [.ipv6] && $0.verdict == .drop }
                let counted = chain.rules.firstIndex { $0.log != nil || $0.counter }
                #expect(drop != nil && drop! < (counted ?? .max), "\(name) \(chain.name)")
            }
        }
        // Pods isolated by a policy and pods no policy selects both occur.
        let isolated = tables.filter { $0.table.sets.contains { $0.name.hasSuffix("isolated") && !$0.elements.isEmpty } }.count
        #expect(isolated > 20)
        #expect(tables.count - isolated > 20)
    }

    @Test func nodePlacementNeverJudgesIPv6() {
        for (name, table) in Self.tables(.node) {
            for hook in [BaseChain.Hook.input, .output, .forward, .prerouting] {
                for packet in Self.packets {
                    #expect(RulesetInterpreter(table: table).verdict(hook, packet) == .accept, "\(name) \(hook) proto \(packet.proto)")
                }
            }
        }
    }
}
