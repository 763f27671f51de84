import KeycardValues
import Testing

@testable import KeycardKernel

/// The messages libnl builds for each `LinkRequest`, against golden bytes (no root): the libnl
/// adapter's output, and what `LinkConfigurator` hands to its transport.
@Suite struct LinkMessageGoldenTests {
    static func bytes(_ request: LinkRequest, sequence: UInt32) throws -> [UInt8] {
        var datagram: [UInt8] = []
        try LibnlRouteMessages.append(request, sequence: sequence, to: &datagram)
        return datagram
    }

    @Test func linkUpChangesOnlyIFF_UP() throws {
        let message = try Self.bytes(.setLinkUp(index: 1), sequence: 7)
        try GoldenBytes.check("link-up-lo", message)
        // nlmsghdr: RTM_NEWLINK (16), REQUEST|ACK, seq 7; ifinfomsg: index 1, flags IFF_UP, change IFF_UP.
        #expect(Array(message[4..<12]) == [0x10, 0, 0x05, 0, 0x07, 0, 0, 0])
        #expect(Array(message[20..<32]) == [0x01, 0, 0, 0, 0x01, 0, 0, 0, 0x01, 0, 0, 0])
    }

    @Test func addressHasLocalAndAddress() throws {
        try GoldenBytes.check(
            "address-10.244.0.1-32", try Self.bytes(.addAddress(index: 2, address: IPv4(0x0AF4_0001), prefixLength: 32), sequence: 1))
    }

    @Test func routes() throws {
        let gateway = RouteRequest(destination: .any, gateway: IPv4(0xA9FE_0101), outputIndex: 2)
        try GoldenBytes.check("route-default-via-gateway", try Self.bytes(.addRoute(gateway), sequence: 3))
        let link = RouteRequest(destination: .host(IPv4(0xA9FE_0101)), outputIndex: 7, scope: .link)
        try GoldenBytes.check("route-scope-link", try Self.bytes(.addRoute(link), sequence: 4))
        let onlink = RouteRequest(
            destination: .ipv4(IPv4(0x0A61_0000), 24), gateway: IPv4(0x6440_0707), outputIndex: 7, onlink: true,
            preferredSource: IPv4(0x0A62_0005))
        try GoldenBytes.check("route-onlink-prefsrc", try Self.bytes(.addRoute(onlink), sequence: 5))
        try GoldenBytes.check(
            "route-blackhole", try Self.bytes(.addBlackholeRoute(destination: .ipv4(IPv4(0x0AF4_0000), 24)), sequence: 6))
    }

    @Test func vethPeerCarriesItsOwnHeaderNameAndNamespace() throws {
        let message = try Self.bytes(
            .createVeth(name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: 9, up: true), sequence: 1)
        try GoldenBytes.check("veth-kcp0-eth0", message)
        // nlmsghdr(16) ifinfomsg(16) IFLA_IFNAME(12) LINKINFO(4) [KIND "veth"(12) DATA(4) [PEER(4) ifinfomsg(16)
        // IFLA_IFNAME(12) IFLA_NET_NS_FD(8)]]
        #expect(message.count == 16 + 16 + 12 + 4 + 12 + 4 + 4 + 16 + 12 + 8)
        #expect(message[6] == 0x05 && message[7] == 0x06)  // REQUEST | ACK | EXCL | CREATE
        #expect(Array(message[20..<28]) == [0x03, 0, 0, 0, 0x01, 0, 0, 0])  // index 3, born up
        let peerHeader = 16 + 16 + 12 + 4 + 12 + 4 + 4
        #expect(Array(message[peerHeader + 4..<peerHeader + 12]) == [0x02, 0, 0, 0, 0, 0, 0, 0])  // index 2, not up
        #expect(Array(message.suffix(8)) == [0x08, 0x00, 0x1C, 0x00, 0x09, 0x00, 0x00, 0x00])  // IFLA_NET_NS_FD (28) = 9
    }

    @Test func vethWithFixedMACsCarriesIFLA_ADDRESSOnBothEnds() throws {
        let (end, peer) = (MACAddress.nodeSide(of: IPv4(0x0AF4_0001)), MACAddress.podSide(of: IPv4(0x0AF4_0001)))
        let message = try Self.bytes(
            .createVeth(name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: 9, up: true, mac: end, peerMAC: peer),
            sequence: 1)
        try GoldenBytes.check("veth-kcp0-eth0-macs", message)
        // IFLA_ADDRESS (1), 6 bytes padded to 12: once for the link, once inside the peer.
        let header: [UInt8] = [0x0A, 0x00, 0x01, 0x00]
        let attribute: (MACAddress) -> [UInt8] = { header + $0.octets + [0, 0] }
        let withoutMACs = 16 + 16 + 12 + 4 + 12 + 4 + 4 + 16 + 12 + 8
        #expect(message.count == withoutMACs + 12 + 12)
        #expect(message.firstRange(of: attribute(end)) != nil)
        #expect(message.firstRange(of: attribute(peer)) != nil)
    }

    @Test func permanentNeighbour() throws {
        let message = try Self.bytes(
            .addNeighbour(index: 3, address: IPv4(0x0AF4_0001), mac: .podSide(of: IPv4(0x0AF4_0001))), sequence: 2)
        try GoldenBytes.check("neighbour-permanent", message)
        // nlmsghdr: RTM_NEWNEIGH (28), REQUEST|ACK|REPLACE|CREATE; ndmsg: AF_INET, ifindex 3, NUD_PERMANENT (0x80).
        #expect(Array(message[4..<8]) == [0x1C, 0x00, 0x05, 0x05])
        #expect(message[16] == 2)
        #expect(Array(message[20..<26]) == [0x03, 0, 0, 0, 0x80, 0x00])
    }

    /// The configurator batches 64 requests per datagram, numbers them in order, and names the
    /// request a negative ack answers.
    @Test func configuratorBatchesAndNamesTheFailedRequest() throws {
        let transport = RecordingNetlinkTransport(label: "kc-golden.ns")
        let configurator = LinkConfigurator(transport: transport, sequence: 100)
        let addresses = (1...70).map { LinkRequest.addAddress(index: 1, address: IPv4(0x0A63_0000 + UInt32($0)), prefixLength: 32) }
        try configurator.apply(addresses)
        #expect(transport.exchanges.map(\.expecting.count) == [64, 6])
        #expect(transport.exchanges[0].expecting.first == 100 && transport.exchanges[1].expecting.last == 169)
        var expected: [UInt8] = []
        for (offset, request) in addresses.prefix(64).enumerated() {
            try LibnlRouteMessages.append(request, sequence: 100 + UInt32(offset), to: &expected)
        }
        #expect(transport.exchanges[0].bytes == expected)

        transport.answer = { _, position, sequence in
            NetlinkAck(sequence: sequence, errno: position == 1 ? 19 : 0, reason: position == 1 ? "no such device" : nil)
        }
        #expect {
            try configurator.apply([.setLinkUp(index: 1), .setLinkUp(index: 42)])
        } throws: { error in
            guard let error = error as? KernelError else { return false }
            return error.errno == 19 && error.subject.contains("ifindex 42") && error.subject.contains("kc-golden.ns")
                && error.subject.contains("no such device")
        }
    }
}
