import CNetfilter
import Glibc
import KeycardValues

/// ctnetlink event messages (`IPCTNL_MSG_CT_NEW` in subsystem NFNL_SUBSYS_CTNETLINK, as
/// linux/netfilter/nfnetlink_conntrack.h declares them): what `ConntrackListener` reads. Public
/// for golden-byte tests.
public enum ConntrackEvents {
    /// nlmsg_type of a conntrack NEW event.
    public static var newType: UInt16 { UInt16(NFNL_SUBSYS_CTNETLINK << 8) | UInt16(IPCTNL_MSG_CT_NEW.rawValue) }

    /// The original-direction tuples (CTA_TUPLE_ORIG: CTA_TUPLE_IP v4 addresses, CTA_TUPLE_PROTO
    /// number and ports, or an ICMP echo request's identifier) of the IPv4 NEW events in one
    /// datagram; other messages (IPv6, other types) are skipped. Nil when the datagram is not whole
    /// netlink messages.
    public static func newConnections(in datagram: [UInt8]) -> [TrackedConnection]? {
        datagram.withUnsafeBytes { newConnections(in: $0) }
    }

    static func newConnections(in bytes: UnsafeRawBufferPointer) -> [TrackedConnection]? {
        guard let base = bytes.baseAddress else { return [] }
        var flows: [TrackedConnection] = []
        var remaining = Int32(clamping: bytes.count)
        var header: UnsafePointer<nlmsghdr>? = UnsafePointer(base.assumingMemoryBound(to: nlmsghdr.self))
        while let current = header, mnl_nlmsg_ok(current, remaining) {
            if current.pointee.nlmsg_type == newType, let flow = connection(current) { flows.append(flow) }
            header = UnsafePointer(mnl_nlmsg_next(current, &remaining))
        }
        return remaining <= 0 ? flows : nil
    }

    /// The tuples of one NEW message, nil unless its original tuple is a whole IPv4 tuple.
    static func connection(_ header: UnsafePointer<nlmsghdr>) -> TrackedConnection? {
        guard Int(header.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size,
            let family = mnl_nlmsg_get_payload(header)?.assumingMemoryBound(to: nfgenmsg.self),
            family.pointee.nfgen_family == UInt8(AF_INET)
        else { return nil }
        let top = Attributes()
        guard mnl_attr_parse(header, UInt32(MemoryLayout<nfgenmsg>.size), Attributes.callback, top.context) >= 0,
            let original = top[Int(CTA_TUPLE_ORIG.rawValue)].flatMap(tuple)
        else { return nil }
        return TrackedConnection(original: original, reply: top[Int(CTA_TUPLE_REPLY.rawValue)].flatMap(tuple))
    }

    /// One nested CTA_TUPLE_* attribute as a flow. An ICMP tuple carries no ports but its type and
    /// echo identifier (CTA_PROTO_ICMP_TYPE, CTA_PROTO_ICMP_ID, `icmp_tuple_to_nlattr` in
    /// net/netfilter/nf_conntrack_proto_icmp.c): an echo request's identifier goes to the flow, as
    /// `PacketFlow.parse` reads it from a logged packet.
    private static func tuple(_ nest: UnsafePointer<nlattr>) -> PacketFlow? {
        let tuple = Attributes()
        guard mnl_attr_parse_nested(nest, Attributes.callback, tuple.context) >= 0,
            let ip = tuple[Int(CTA_TUPLE_IP.rawValue)], let proto = tuple[Int(CTA_TUPLE_PROTO.rawValue)]
        else { return nil }
        let addresses = Attributes()
        let transport = Attributes()
        guard mnl_attr_parse_nested(ip, Attributes.callback, addresses.context) >= 0,
            mnl_attr_parse_nested(proto, Attributes.callback, transport.context) >= 0,
            let source = addresses.u32(Int(CTA_IP_V4_SRC.rawValue)), let destination = addresses.u32(Int(CTA_IP_V4_DST.rawValue)),
            let number = transport[Int(CTA_PROTO_NUM.rawValue)], mnl_attr_get_payload_len(number) >= 1
        else { return nil }
        let protocolNumber = mnl_attr_get_u8(number)
        let echo =
            protocolNumber == TransportProtocol.icmp.number && transport.u8(Int(CTA_PROTO_ICMP_TYPE.rawValue)) == ICMPEcho.echoRequest
            ? transport.u16(Int(CTA_PROTO_ICMP_ID.rawValue)).map { UInt16(bigEndian: $0) } : nil
        return PacketFlow(
            source: IPv4(UInt32(bigEndian: source)), destination: IPv4(UInt32(bigEndian: destination)),
            proto: protocolNumber, sourcePort: transport.u16(Int(CTA_PROTO_SRC_PORT.rawValue)).map { UInt16(bigEndian: $0) },
            destinationPort: transport.u16(Int(CTA_PROTO_DST_PORT.rawValue)).map { UInt16(bigEndian: $0) }, echoIdentifier: echo)
    }
}

/// mnl_attr_parse's context: the attributes of one level of one message, by type.
private final class Attributes {
    private var table = [UnsafePointer<nlattr>?](repeating: nil, count: 32)

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    subscript(type: Int) -> UnsafePointer<nlattr>? { type < table.count ? table[type] : nil }

    /// A 32-bit attribute's raw value (network byte order as the kernel wrote it).
    func u32(_ type: Int) -> UInt32? {
        guard let attribute = self[type], mnl_attr_get_payload_len(attribute) >= 4 else { return nil }
        return mnl_attr_get_u32(attribute)
    }

    func u8(_ type: Int) -> UInt8? {
        guard let attribute = self[type], mnl_attr_get_payload_len(attribute) >= 1 else { return nil }
        return mnl_attr_get_u8(attribute)
    }

    func u16(_ type: Int) -> UInt16? {
        guard let attribute = self[type], mnl_attr_get_payload_len(attribute) >= 2 else { return nil }
        return mnl_attr_get_u16(attribute)
    }

    static let callback: mnl_attr_cb_t = { attribute, data in
        guard let attribute, let data else { return MNL_CB_OK }
        let attributes = Unmanaged<Attributes>.fromOpaque(data).takeUnretainedValue()
        let type = Int(mnl_attr_get_type(attribute))
        if type < attributes.table.count { attributes.table[type] = attribute }
        return MNL_CB_OK
    }
}
