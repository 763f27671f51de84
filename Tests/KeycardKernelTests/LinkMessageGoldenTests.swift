import Testing

@testable import KeycardKernel

/// Golden bytes of rtnetlink messages, worked out by hand from the uapi headers.
@Suite struct RtnetlinkMessageTests {
    static func bytes(_ request: RtnetlinkRequest, sequence: UInt32) -> [UInt8] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: RtnetlinkMessage.maximumSize, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE, count: RtnetlinkMessage.maximumSize)
        let length = RtnetlinkMessage.build(request, sequence: sequence, at: buffer)
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    @Test func linkUp() {
        #expect(
            Self.bytes(.setLinkUp(index: 1), sequence: 7) == [
                0x20, 0x00, 0x00, 0x00,  // nlmsg_len 32
                0x10, 0x00,  // RTM_NEWLINK
                0x05, 0x00,  // NLM_F_REQUEST | NLM_F_ACK
                0x07, 0x00, 0x00, 0x00,  // seq 7
                0x00, 0x00, 0x00, 0x00,  // pid (kernel fills)
                0x00, 0x00, 0x00, 0x00,  // ifi_family AF_UNSPEC, pad, ifi_type
                0x01, 0x00, 0x00, 0x00,  // ifi_index 1 (loopback)
                0x01, 0x00, 0x00, 0x00,  // ifi_flags IFF_UP
                0x01, 0x00, 0x00, 0x00,  // ifi_change IFF_UP only
            ])
    }

    @Test func address() {
        #expect(
            Self.bytes(.addAddress(index: 2, address: 0x0AF4_0001, prefixLength: 32), sequence: 1) == [
                0x28, 0x00, 0x00, 0x00,  // nlmsg_len 40
                0x14, 0x00,  // RTM_NEWADDR
                0x05, 0x06,  // REQUEST | ACK | EXCL | CREATE
                0x01, 0x00, 0x00, 0x00,  // seq 1
                0x00, 0x00, 0x00, 0x00,
                0x02, 0x20, 0x00, 0x00,  // AF_INET, /32, flags, scope universe
                0x02, 0x00, 0x00, 0x00,  // ifa_index 2
                0x08, 0x00, 0x02, 0x00, 0x0A, 0xF4, 0x00, 0x01,  // IFA_LOCAL 10.244.0.1
                0x08, 0x00, 0x01, 0x00, 0x0A, 0xF4, 0x00, 0x01,  // IFA_ADDRESS 10.244.0.1
            ])
    }

    @Test func defaultRouteViaGateway() {
        let route = RouteRequest(destination: 0, prefixLength: 0, gateway: 0xA9FE_0101, outputIndex: 2)
        #expect(
            Self.bytes(.addRoute(route), sequence: 3) == [
                0x2C, 0x00, 0x00, 0x00,  // nlmsg_len 44
                0x18, 0x00,  // RTM_NEWROUTE
                0x05, 0x06,  // REQUEST | ACK | EXCL | CREATE
                0x03, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00,
                0x02, 0x00, 0x00, 0x00,  // AF_INET, dst_len 0, src_len 0, tos
                0xFE, 0x04, 0x00, 0x01,  // table main, proto static, scope universe, type unicast
                0x00, 0x00, 0x00, 0x00,  // rtm_flags
                0x08, 0x00, 0x05, 0x00, 0xA9, 0xFE, 0x01, 0x01,  // RTA_GATEWAY 169.254.1.1 (no RTA_DST for /0)
                0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,  // RTA_OIF 2
            ])
    }

    @Test func vethPeerCarriesItsOwnHeaderNameAndNamespace() {
        let message = Self.bytes(
            .createVeth(name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: 9, up: true), sequence: 1)
        // nlmsghdr(16) ifinfomsg(16) IFLA_IFNAME(12) LINKINFO(4) [KIND "veth"(12) DATA(4) [PEER(4) ifinfomsg(16)
        // IFLA_IFNAME(12) IFLA_NET_NS_FD(8)]]
        #expect(message.count == 16 + 16 + 12 + 4 + 12 + 4 + 4 + 16 + 12 + 8)
        #expect(message[6] == 0x05 && message[7] == 0x06)  // REQUEST | ACK | EXCL | CREATE
        #expect(Array(message[20..<28]) == [0x03, 0, 0, 0, 0x01, 0, 0, 0])  // index 3, born up
        let peerHeader = 16 + 16 + 12 + 4 + 12 + 4 + 4
        #expect(Array(message[peerHeader + 4..<peerHeader + 16]) == [0x02, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0])  // index 2, not up
        #expect(Array(message.suffix(8)) == [0x08, 0x00, 0x1C, 0x00, 0x09, 0x00, 0x00, 0x00])  // IFLA_NET_NS_FD (28) = 9
    }
}
