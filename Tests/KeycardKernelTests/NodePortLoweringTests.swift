import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

/// The node-port proxy's new statements, `meta mark set` and `snat ip to`, lowered through
/// libnftnl are what nft itself sends for the same text: the kernel's expressions
/// (`nft --debug=netlink list`) agree line by line, in an inet table. One known difference:
/// keycard's lowering guards every `ip` nat of an inet table with `meta nfproto ipv4` (as nft does
/// for a nat rule without other matches), where nft leaves it out after a `meta` match; the
/// comparison removes that guard, and checks that it is there.
@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct NodePortLoweringTests {
    /// A node's node-port table as `NodePortCompiler` emits it (written out here: the kernel tests
    /// do not depend on the compiler): one endpoint on another node, marked and DNATed, and the
    /// postrouting source NAT of marked connections to the node.
    static func nodePorts(name: String = "kc-test-nodeport") -> Table {
        let node = NftFixtures.ip(100, 64, 0, 2)
        let endpoint = "endpoint-prod/web/tcp/http__10.244.128.2/8080"
        return Table(
            name: name,
            sets: [
                NamedSet(
                    name: "node-ports", key: [.ipv4Address, .inetProto, .inetService],
                    elements: [.mapping([.ipv4(node), .proto(6), .port(30080)], .goto(endpoint))], data: .verdict)
            ],
            chains: [
                Chain(
                    name: "nat-prerouting", base: BaseChain(type: .nat, hook: .prerouting, priority: -100),
                    rules: [Rule(verdict: .vmap([.daddr, .l4proto, .dport], map: "node-ports"), comment: "node ports")]),
                Chain(
                    name: "nat-postrouting", base: BaseChain(type: .nat, hook: .postrouting, priority: 100),
                    rules: [Rule([.mark(0x4000)], verdict: .snat(address: node), comment: "Cluster")]),
                Chain(
                    name: endpoint,
                    rules: [
                        Rule(verdict: .setMark(0x4000)),
                        Rule(
                            [.l4proto(6)], verdict: .dnat(address: NftFixtures.ip(10, 244, 128, 2), port: 8080),
                            comment: "prod/web -> prod/web-1"),
                    ]),
            ])
    }

    @Test func libnftnlLoweringEqualsNftsOwn() throws {
        try NftTestSupport.withNamespaces(2) { names in
            let table = Self.nodePorts()
            try NftablesProgrammer(namespace: names[0]).apply(old: nil, new: table)
            let loaded = try NftTestSupport.nftLoad(names[1], table.nftText())
            try #require(loaded.status == 0, "nft -f refused the text: \(loaded.error)")
            let listings = try names.map { name in
                try NftTestSupport.run(["ip", "netns", "exec", name, "nft", "--debug=netlink", "list", "table", "inet", table.name])
            }
            for listing in listings { try #require(listing.status == 0, "\(listing.error)") }
            let guardLines = "  [ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]\n"
            #expect(listings[0].output.components(separatedBy: guardLines).count == 4, "the guard before the lookup, the snat and the dnat")
            let unguarded = listings[0].output.replacingOccurrences(of: "meta nfproto ipv4 ", with: "")
                .components(separatedBy: "\n")
            let ours = unguarded.joined(separator: "\n").replacingOccurrences(
                of: "  [ meta load mark => reg 1 ]\n  [ cmp eq reg 1 0x00004000 ]\n" + guardLines,
                with: "  [ meta load mark => reg 1 ]\n  [ cmp eq reg 1 0x00004000 ]\n"
            ).replacingOccurrences(
                of: "  [ cmp eq reg 1 0x00000006 ]\n" + guardLines, with: "  [ cmp eq reg 1 0x00000006 ]\n")
            #expect(ours == listings[1].output)
            #expect(listings[0].output.contains("[ meta set mark with reg 1 ]"))
            #expect(listings[0].output.contains("[ nat snat ip addr_min reg 1 addr_max reg 1 flags 0x1 ]"))
            #expect(listings[0].output.contains("meta mark set 0x00004000"))
            #expect(listings[0].output.contains("snat ip to 100.64.0.2"))
        }
    }
}
