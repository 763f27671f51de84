import KeycardValues

/// The addresses, protocol and ports of an IPv4 packet: what ties a logged drop to the probe that sent it.
/// An ICMP echo request has no ports; its identifier takes their place (as in conntrack's ICMP tuple,
/// `icmp_pkt_to_tuple` in net/netfilter/nf_conntrack_proto_icmp.c: source, destination, id).
public struct PacketFlow: Sendable, Hashable, CustomStringConvertible {
    public var source: IPv4
    public var destination: IPv4
    /// IP protocol number (6 TCP, 17 UDP).
    public var proto: UInt8
    /// TCP/UDP source port; nil for other protocols and non-first fragments.
    public var sourcePort: UInt16?
    /// TCP/UDP destination port; nil for other protocols and non-first fragments.
    public var destinationPort: UInt16?
    /// An ICMP echo request's identifier (RFC 792: type 8, identifier in bytes 4-5 of the ICMP
    /// header); nil for every other packet.
    public var echoIdentifier: UInt16?

    /// A flow from its parts (ports nil for protocols without them, `echoIdentifier` nil but for an
    /// ICMP echo request).
    public init(
        source: IPv4, destination: IPv4, proto: UInt8, sourcePort: UInt16? = nil, destinationPort: UInt16? = nil,
        echoIdentifier: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.proto = proto
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.echoIdentifier = echoIdentifier
    }

    /// Reads the flow from the start of an IPv4 packet (as NFULA_PAYLOAD carries it); nil when the bytes
    /// are not IPv4 or too short for the header they announce.
    public static func parse(ipv4 bytes: [UInt8]) -> PacketFlow? {
        guard bytes.count >= 20, bytes[0] >> 4 == 4 else { return nil }
        let headerLength = Int(bytes[0] & 0x0f) * 4
        guard headerLength >= 20, bytes.count >= headerLength else { return nil }
        let proto = bytes[9]
        var flow = PacketFlow(
            source: IPv4(u32(bytes, 12)), destination: IPv4(u32(bytes, 16)), proto: proto, sourcePort: nil, destinationPort: nil)
        // Only the first fragment (offset 0) carries the transport header.
        let fragmentOffset = u16(bytes, 6) & 0x1fff
        // TCP, UDP and SCTP all start with the two ports.
        if [TransportProtocol.tcp.number, TransportProtocol.udp.number, TransportProtocol.sctp.number].contains(proto),
            fragmentOffset == 0, bytes.count >= headerLength + 4
        {
            flow.sourcePort = u16(bytes, headerLength)
            flow.destinationPort = u16(bytes, headerLength + 2)
        }
        // An echo request (type 8, code 0) names its prober by the identifier at bytes 4-5.
        if proto == TransportProtocol.icmp.number, fragmentOffset == 0, bytes.count >= headerLength + 6,
            bytes[headerLength] == ICMPEcho.echoRequest, bytes[headerLength + 1] == 0
        {
            flow.echoIdentifier = u16(bytes, headerLength + 4)
        }
        return flow
    }

    public var description: String {
        let name = TransportProtocol.allCases.first { $0.number == proto }?.lowercased ?? "proto \(proto)"
        let from = source.description + (sourcePort.map { ":\($0)" } ?? "")
        let to = destination.description + (destinationPort.map { ":\($0)" } ?? "")
        return "\(from) -> \(to)/\(name)" + (echoIdentifier.map { " echo id \($0)" } ?? "")
    }

    private static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

    private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
