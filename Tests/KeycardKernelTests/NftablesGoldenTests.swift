import CNetfilter
import Glibc
import KeycardRuleset
import Testing

@testable import KeycardKernel

/// Lowering and batch building against golden bytes, through a recording transport: no root, no
/// kernel. The kernel witness tests (NftablesProgrammerTests) check that the same bytes do what
/// `nft -f` does.
@Suite struct NftablesGoldenTests {
    static func programmer() -> (NftablesProgrammer, RecordingNetlinkTransport) {
        let transport = RecordingNetlinkTransport(label: "kc-golden.ns")
        return (NftablesProgrammer(transport: transport, sequence: 0x1000), transport)
    }

    /// Golden file name → fixture (1,200 elements split into two NEWSETELEM messages).
    static func fixture(_ name: String) -> Table {
        switch name {
        case "nft-create-ip-family-node": NftFixtures.ipFamily()
        case "nft-create-1200-elements": NftFixtures.manyElements(1200)
        case "nft-create-mesh-redirect": NftFixtures.meshRedirect()
        default: NftFixtures.podLike()
        }
    }

    @Test(arguments: ["nft-create-pod-like", "nft-create-ip-family-node", "nft-create-1200-elements", "nft-create-mesh-redirect"])
    func creationBatch(name: String) throws {
        let table = Self.fixture(name)
        let (programmer, transport) = Self.programmer()
        try programmer.apply(old: nil, new: table)
        #expect(transport.exchanges.count == 1)
        let exchange = try #require(transport.exchanges.first)
        // BEGIN (unacked) at 0x1000, the messages from 0x1001 on, END unacked.
        #expect(exchange.expecting.first == 0x1001)
        #expect(exchange.expecting.count == programmer.lastBatch?.messages.count)
        try GoldenBytes.check(name, exchange.bytes)
    }

    @Test func elementOnlyChange() throws {
        let (programmer, transport) = Self.programmer()
        let before = NftFixtures.podLike()
        var after = before
        after.sets[0].elements.removeLast()
        after.sets[0].elements.append(.prefix(NftFixtures.ip(10, 250, 0, 0), length: 16))
        after.sets[1].elements.append(.value([.ipv4(NftFixtures.ip(10, 244, 9, 9)), .proto(6), .port(443)]))
        try programmer.apply(old: nil, new: before)
        try programmer.apply(old: before, new: after)
        #expect(programmer.lastBatch?.kinds == [.newSetElements, .deleteSetElements])
        try GoldenBytes.check("nft-elements-pod-like", transport.exchanges[1].bytes)
    }

    @Test func removal() throws {
        let (programmer, transport) = Self.programmer()
        try programmer.remove(NftFixtures.podLike())
        #expect(programmer.lastBatch?.messages == [.newTable, .deleteTable])
        try GoldenBytes.check("nft-remove-pod-like", transport.exchanges[0].bytes)
    }

    /// A refused message aborts the transaction and is named; a refused element-only change falls
    /// back to one full replace.
    @Test func refusalNamesTheObjectAndElementChangesFallBack() throws {
        let (programmer, transport) = Self.programmer()
        let table = NftFixtures.podLike()
        transport.answer = { _, position, sequence in NetlinkAck(sequence: sequence, errno: position == 3 ? ENOENT : 0) }
        #expect {
            try programmer.apply(old: nil, new: table)
        } throws: { error in
            guard let error = error as? KernelError else { return false }
            return error.errno == ENOENT && error.operation.contains("add table") == false && error.subject.contains("kc-test.pod")
        }
        var after = table
        after.sets[2].elements.append(.value([.ipv4(NftFixtures.ip(10, 96, 0, 11))]))
        transport.answer = { exchange, _, sequence in
            NetlinkAck(sequence: sequence, errno: exchange == 1 ? ENOENT : 0)
        }
        try programmer.apply(old: table, new: after)
        #expect(transport.exchanges.count == 3)
        #expect(programmer.lastBatch?.count(.newRule) == table.chains.map(\.rules.count).reduce(0, +))
        // Unanswered messages are reported, not taken for success.
        transport.answer = { _, _, _ in nil }
        #expect(throws: KernelError.self) { try programmer.remove(table) }
    }
}

/// The conntrack flush request, and the ack parser of the one send/ack loop.
@Suite struct NetlinkMessageGoldenTests {
    @Test func conntrackFlush() throws {
        let transport = RecordingNetlinkTransport(label: "kc-golden.ns")
        try Conntrack.flush(over: transport, sequence: 42)
        try GoldenBytes.check("conntrack-flush", transport.exchanges[0].bytes)
        #expect(transport.exchanges[0].expecting == [42])
        // An empty table answers ENOENT: success.
        transport.answer = { _, _, sequence in NetlinkAck(sequence: sequence, errno: ENOENT) }
        try Conntrack.flush(over: transport, sequence: 43)
        transport.answer = { _, _, sequence in NetlinkAck(sequence: sequence, errno: EPERM) }
        #expect(throws: KernelError.self) { try Conntrack.flush(over: transport, sequence: 44) }
    }

    @Test func nflogBind() throws {
        try GoldenBytes.check("nflog-bind-group-7", NflogMessages.bind(group: 7, copyRange: 64, sequence: 9))
    }

    /// NLMSG_ERROR with NLM_F_CAPPED | NLM_F_ACK_TLVS: errno, sequence and NLMSGERR_ATTR_MSG.
    @Test func ackParserReadsErrnoSequenceAndReason() throws {
        var bytes: [UInt8] = [
            0x30, 0, 0, 0,  // nlmsg_len 48
            0x02, 0,  // NLMSG_ERROR
            0x00, 0x03,  // NLM_F_CAPPED (0x100) | NLM_F_ACK_TLVS (0x200)
            0x2A, 0, 0, 0,  // seq 42
            0, 0, 0, 0,
            0xED, 0xFF, 0xFF, 0xFF,  // error -19 (ENODEV)
            0x20, 0, 0, 0, 0x10, 0, 0x05, 0, 0x2A, 0, 0, 0, 0, 0, 0, 0,  // the request's header
            0x0C, 0, 0x01, 0,  // NLMSGERR_ATTR_MSG, 12 bytes
        ]
        bytes += Array("no dev\0".utf8) + [0]
        #expect(bytes.count == 48)
        let ack = bytes.withUnsafeBytes { NetlinkAckParser.ack($0.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) }
        #expect(ack == NetlinkAck(sequence: 42, errno: ENODEV, reason: "no dev"))
    }
}

/// The datapath's encodings against golden bytes: concatenated interval sets (`NFT_SET_CONCAT`,
/// `NFTA_SET_DESC_CONCAT`, elements with `NFTA_SET_ELEM_KEY_END`), verdict maps and their
/// elements, lookups of a concatenation and `vmap`, element comments.
@Suite struct NftablesDatapathGoldenTests {
    @Test func creation() throws {
        let (programmer, transport) = NftablesGoldenTests.programmer()
        try programmer.apply(old: nil, new: NftFixtures.datapath())
        try GoldenBytes.check("nft-create-datapath", transport.exchanges[0].bytes)
    }

    /// Deletions by key only (a box's start and end, a map's key), then additions with KEY_END,
    /// a verdict and the comment given beside the table.
    @Test func elementChanges() throws {
        let (programmer, transport) = NftablesGoldenTests.programmer()
        let table = NftFixtures.datapath()
        try programmer.apply(old: nil, new: table)
        let added = NftFixtures.box(NftFixtures.ip(10, 1, 0, 0), NftFixtures.ip(10, 1, 255, 255), 17, 53, 53)
        try programmer.applyElements(NftFixtures.datapathChanges, of: table, comments: [added: "x/allow#ingress[1]"], fallback: table)
        #expect(programmer.lastBatch?.kinds == [.deleteSetElements, .newSetElements])
        #expect(transport.exchanges.count == 2)
        try GoldenBytes.check("nft-elements-datapath", transport.exchanges[1].bytes)
    }
}
