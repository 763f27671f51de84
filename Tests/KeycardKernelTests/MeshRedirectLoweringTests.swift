import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

/// The mesh's `meta mark` and `redirect` lowered through libnftnl are what nft itself sends for
/// the same text: the kernel's expressions (`nft --debug=netlink list`) agree line by line.
@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct MeshRedirectLoweringTests {
    @Test func libnftnlLoweringEqualsNftsOwn() throws {
        try NftTestSupport.withNamespaces(2) { names in
            let table = NftFixtures.meshRedirect()
            try NftablesProgrammer(namespace: names[0]).apply(old: nil, new: table)
            let loaded = try NftTestSupport.nftLoad(names[1], table.nftText())
            try #require(loaded.status == 0, "nft -f refused the text: \(loaded.error)")
            let listings = try names.map { name in
                try NftTestSupport.run(["ip", "netns", "exec", name, "nft", "--debug=netlink", "list", "table", "ip", table.name])
            }
            for listing in listings { try #require(listing.status == 0, "\(listing.error)") }
            #expect(listings[0].output == listings[1].output)
            #expect(listings[0].output.contains("[ redir proto_min reg 1 proto_max reg 1 flags 0x2 ]"))
            #expect(listings[0].output.contains("[ immediate reg 1 0x0000993a ]"))  // 15001, network order
            #expect(listings[0].output.contains("[ meta load mark => reg 1 ]"))
            #expect(listings[0].output.contains("[ cmp eq reg 1 0x00006b63 ]"))
            #expect(listings[0].output.contains("[ cmp neq reg 1 0x0000002a ]"))
            #expect(listings[0].output.contains("meta mark != 0x0000002a oifname \"lo\" accept"))
            #expect(listings[0].output.contains("meta l4proto tcp redirect to :15006"))
        }
    }
}
