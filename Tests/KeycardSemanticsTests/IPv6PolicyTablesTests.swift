import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The lab is IPv4-only (docs/kubernetes-fidelity.md, NP-38): the policy tables are inet tables,
/// which see IPv6 too (a pod's link-local addresses), and must neither drop it nor count it
/// under an isolated pod's drop rule, whatever policy selects the pod, in both placements.
@Suite("IPv6 passes the policy tables")
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

    @Test(arguments: Placement.allCases)
    func ipv6IsAcceptedByEveryPodAndNodeTableIsolatedOrNot(_ placement: Placement) {
        let tables = Self.tables(placement)
        let packets = [UInt8(6), 17, 58].map { RulesetInterpreter.Packet(saddr: 0, daddr: 0, proto: $0, dport: 9999, ipv6: true) }
        for (name, table) in tables {
            for hook in [BaseChain.Hook.input, .output, .forward, .prerouting] {
                for packet in packets {
                    #expect(
                        RulesetInterpreter(table: table).verdict(hook, packet) == .accept,
                        "\(name) \(hook) proto \(packet.proto): IPv6 dropped")
                }
            }
        }
        // Pods isolated by a policy and pods no policy selects both occur (pod placement).
        let isolated = tables.filter { $0.table.sets.contains { $0.name.hasSuffix("isolated") && !$0.elements.isEmpty } }.count
        if placement == .pod {
            #expect(isolated > 20)
            #expect(tables.count - isolated > 20)
        }
    }
}
