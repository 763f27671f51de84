import Testing

@testable import KeycardKernel
@testable import KeycardTestSupport
@testable import KeycardValues

/// nfnetlink_log wire format without a kernel: the config request as golden bytes, packet messages built
/// by hand and parsed back, and the IPv4 flow reader.
@Suite("Nflog: wire messages")
struct NflogMessageTests {
    @Test func bindRequestGoldenBytes() {
        let bytes = NflogMessages.bind(group: 7, copyRange: 64, sequence: 0x0102_0304)
        let expected: [UInt8] = [
            56, 0, 0, 0,  // nlmsg_len
            0x01, 0x04,  // nlmsg_type: NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
            0x05, 0x00,  // NLM_F_REQUEST | NLM_F_ACK
            0x04, 0x03, 0x02, 0x01,  // seq
            0, 0, 0, 0,  // portid
            0, 0, 0x00, 0x07,  // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id = group 7 (big endian)
            5, 0, 1, 0, 1, 0, 0, 0,  // NFULA_CFG_CMD: NFULNL_CFG_CMD_BIND, padded
            10, 0, 2, 0, 0, 0, 0, 64, 2, 0, 0, 0,  // NFULA_CFG_MODE: copy_range 64 (be32), NFULNL_COPY_PACKET, pad
            8, 0, 5, 0, 0, 0, 0, 1,  // NFULA_CFG_QTHRESH 1 (be32)
            8, 0, 4, 0, 0, 0, 0, 1,  // NFULA_CFG_TIMEOUT 1/100 s (be32)
        ]
        #expect(bytes == expected)
    }

    @Test func packetMessageParsesToFlowAndPrefix() throws {
        let payload = NflogWire.ipv4(
            proto: 6, source: [10, 78, 1, 2], destination: [10, 78, 3, 2], transport: [0x9c, 0x40, 0x00, 0x50, 1, 2, 3, 4])
        let datagram = NflogWire.packetMessage(group: 7, hook: 1, prefix: "kc deny ingress x/a", payload: payload)
        let packets = try #require(NflogMessages.packets(in: datagram))
        #expect(
            packets == [
                LoggedPacket(
                    group: 7, prefix: "kc deny ingress x/a", hook: 1,
                    flow: PacketFlow(
                        source: "10.78.1.2", destination: "10.78.3.2", proto: 6, sourcePort: 40000,
                        destinationPort: 80))
            ])
    }

    @Test func twoMessagesInOneDatagramAndOthersSkipped() throws {
        let udp = NflogWire.ipv4(
            proto: 17, source: [10, 0, 0, 1], destination: [10, 0, 0, 2], transport: [0x13, 0x88, 0x00, 0x51, 0, 12, 0, 0])
        let first = NflogWire.packetMessage(group: 3, hook: 2, prefix: "a", payload: udp)
        let config = NflogWire.message(type: 0x0401, body: [0, 0, 0, 3])  // a config echo: not a packet
        let second = NflogWire.packetMessage(group: 3, hook: 2, prefix: "", payload: udp)
        var datagram: [UInt8] = first
        datagram.append(contentsOf: config)
        datagram.append(contentsOf: second)
        let packets = try #require(NflogMessages.packets(in: datagram))
        #expect(packets.map(\.prefix) == ["a", ""])
        #expect(packets.map { $0.flow?.destinationPort } == [81, 81])
        #expect(packets.map { $0.flow?.sourcePort } == [5000, 5000])
    }

    @Test func truncatedDatagramIsRefused() {
        let payload = NflogWire.ipv4(proto: 6, source: [10, 0, 0, 1], destination: [10, 0, 0, 2], transport: [0, 1, 0, 2])
        let datagram = NflogWire.packetMessage(group: 7, hook: 1, prefix: "p", payload: payload)
        #expect(NflogMessages.packets(in: Array(datagram.dropLast(6))) == nil)
    }

    struct FlowCase: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let flow: PacketFlow?
        var testDescription: String { name }
    }

    static let flowCases: [FlowCase] = {
        let a: [UInt8] = [10, 1, 2, 3]
        let b: [UInt8] = [10, 4, 5, 6]
        let ports: [UInt8] = [0x30, 0x39, 0x00, 0x50]  // 12345 -> 80
        func flow(_ proto: UInt8, _ sport: UInt16?, _ dport: UInt16?) -> PacketFlow {
            PacketFlow(
                source: "10.1.2.3", destination: "10.4.5.6", proto: proto, sourcePort: sport, destinationPort: dport
            )
        }
        let options: [UInt8] = NflogWire.ipv4(proto: 6, source: a, destination: b, transport: ports, optionWords: 1)
        var fragment = NflogWire.ipv4(proto: 17, source: a, destination: b, transport: ports)
        fragment[7] = 0x10  // fragment offset 16 (x8 bytes): no transport header here
        var ipv6 = NflogWire.ipv4(proto: 6, source: a, destination: b, transport: ports)
        ipv6[0] = 0x60
        return [
            FlowCase(name: "tcp", bytes: NflogWire.ipv4(proto: 6, source: a, destination: b, transport: ports), flow: flow(6, 12345, 80)),
            FlowCase(name: "udp", bytes: NflogWire.ipv4(proto: 17, source: a, destination: b, transport: ports), flow: flow(17, 12345, 80)),
            FlowCase(
                name: "sctp", bytes: NflogWire.ipv4(proto: 132, source: a, destination: b, transport: ports), flow: flow(132, 12345, 80)),
            FlowCase(
                name: "icmp has no ports", bytes: NflogWire.ipv4(proto: 1, source: a, destination: b, transport: [8, 0, 0, 0]),
                flow: flow(1, nil, nil)),
            FlowCase(
                name: "icmp echo request names its identifier",
                bytes: NflogWire.ipv4(proto: 1, source: a, destination: b, transport: [8, 0, 0xAB, 0xCD, 0x12, 0x34, 0, 1]),
                flow: PacketFlow(source: "10.1.2.3", destination: "10.4.5.6", proto: 1, echoIdentifier: 0x1234)),
            FlowCase(
                name: "icmp echo reply has no identifier here",
                bytes: NflogWire.ipv4(proto: 1, source: a, destination: b, transport: [0, 0, 0xAB, 0xCD, 0x12, 0x34, 0, 1]),
                flow: flow(1, nil, nil)),
            FlowCase(
                name: "udp bytes in an echo's place are ports",
                bytes: NflogWire.ipv4(proto: 17, source: a, destination: b, transport: [8, 0, 0xAB, 0xCD, 0x12, 0x34, 0, 1]),
                flow: flow(17, 0x0800, 0xABCD)),
            FlowCase(name: "ip options shift the ports", bytes: options, flow: flow(6, 12345, 80)),
            FlowCase(name: "later fragment has no ports", bytes: fragment, flow: flow(17, nil, nil)),
            FlowCase(
                name: "ports cut off by copy range", bytes: NflogWire.ipv4(proto: 6, source: a, destination: b, transport: [0x30]),
                flow: flow(6, nil, nil)),
            FlowCase(name: "ipv6 is not read", bytes: ipv6, flow: nil),
            FlowCase(name: "short", bytes: Array(NflogWire.ipv4(proto: 6, source: a, destination: b, transport: []).prefix(19)), flow: nil),
        ]
    }()

    @Test(arguments: flowCases) func flowFromIPv4(_ testCase: FlowCase) {
        #expect(PacketFlow.parse(ipv4: testCase.bytes) == testCase.flow)
    }
}

/// Hand-built nfnetlink_log messages (little-endian host, as the kernel writes them here). Built step by
/// step: long `+` chains of array literals make the type checker crawl.
enum NflogWire {
    static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }

    static func attribute(_ type: Int, _ value: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = le16(4 + value.count)
        bytes.append(contentsOf: le16(type))
        bytes.append(contentsOf: value)
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func message(type: Int, body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = le16(16 + body.count)
        bytes.append(contentsOf: [0, 0])
        bytes.append(contentsOf: le16(type))
        bytes.append(contentsOf: [UInt8](repeating: 0, count: 10))  // flags, seq, portid
        bytes.append(contentsOf: body)
        return bytes
    }

    /// NFULNL_MSG_PACKET: nfgenmsg (AF_INET, group), NFULA_PACKET_HDR, NFULA_PREFIX (when not empty), NFULA_PAYLOAD.
    static func packetMessage(group: UInt16, hook: UInt8, prefix: String, payload: [UInt8]) -> [UInt8] {
        var body: [UInt8] = [2, 0, UInt8(group >> 8), UInt8(group & 0xff)]
        body.append(contentsOf: attribute(1, [0x08, 0x00, hook, 0]))
        if !prefix.isEmpty {
            var text: [UInt8] = Array(prefix.utf8)
            text.append(0)
            body.append(contentsOf: attribute(10, text))
        }
        body.append(contentsOf: attribute(9, payload))
        return message(type: 0x0400, body: body)
    }

    /// An IPv4 header (20 bytes + `optionWords` x 4) followed by `transport`.
    static func ipv4(proto: UInt8, source: [UInt8], destination: [UInt8], transport: [UInt8], optionWords: Int = 0) -> [UInt8] {
        let headerLength = 20 + optionWords * 4
        let total = headerLength + transport.count
        var bytes: [UInt8] = [0x40 | UInt8(headerLength / 4), 0, UInt8(total >> 8), UInt8(total & 0xff)]
        bytes.append(contentsOf: [0, 1, 0x40, 0])  // id, don't fragment, offset 0
        bytes.append(contentsOf: [64, proto, 0, 0])  // ttl, protocol, checksum
        bytes.append(contentsOf: source)
        bytes.append(contentsOf: destination)
        bytes.append(contentsOf: [UInt8](repeating: 1, count: optionWords * 4))
        bytes.append(contentsOf: transport)
        return bytes
    }
}
