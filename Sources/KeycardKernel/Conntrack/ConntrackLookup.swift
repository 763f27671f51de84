import CNetfilter
import Glibc
import KeycardValues

/// Finds one tracked connection by a tuple of either of its directions (ctnetlink
/// `IPCTNL_MSG_CT_GET`, what `conntrack -G` sends), in one lab namespace.
///
/// The mesh proxy needs the original tuple of the connections its listeners accept: a REDIRECT
/// whose reply tuple is still held by the entry of a closed connection (a TCP entry lingers in
/// CLOSE for `nf_conntrack_tcp_timeout_close`, 10 s, after a reset) makes the kernel move the new
/// connection to another **source port** (measured on kernel 6.18: a client bound to port 25000,
/// redirected to a local listener after a connection from the same port to another destination
/// port, arrived as port 1427). The port an accepted socket shows is then not the port the client
/// sent from; the entry's original tuple still is.
///
/// One NETLINK_NETFILTER socket per lookup, opened inside the namespace and kept open (closing one
/// can wait for the kernel, see `ConntrackFlusher`). Thread-safe: lookups take turns on the socket.
public final class ConntrackLookup: @unchecked Sendable {
    private let socket: NetlinkSocket
    private let lock = PthreadMutex()
    /// Guarded by `lock`.
    private var sequence = UInt32(truncatingIfNeeded: time(nil))

    /// Opens the lookup's socket inside lab namespace `namespace` (`/run/netns/<namespace>`) and
    /// checks it lives there.
    /// - Throws: `KernelError` (namespace, socket, bind).
    public init(namespace: String) throws(KernelError) {
        socket = try NetlinkSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
    }

    /// The connection tracked under the TCP tuple `tuple` (source → destination as one end's
    /// packets carry it: for an accepted socket, its local address → its peer is the reply
    /// tuple), or nil when conntrack tracks none (ENOENT, or no hook ever made conntrack track
    /// the namespace's traffic).
    /// - Throws: `KernelError` when the socket fails or the kernel answers another error.
    public func connection(tcp tuple: PacketFlow) throws(KernelError) -> TrackedConnection? {
        let result: Result<TrackedConnection?, KernelError> = lock.withLock {
            sequence &+= 1
            do throws(KernelError) {
                return .success(try exchange(Self.request(tuple: tuple, sequence: sequence), sequence: sequence))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The ctnetlink GET message for `tuple` (nested CTA_TUPLE_REPLY: CTA_TUPLE_IP with both IPv4
    /// addresses, CTA_TUPLE_PROTO with the protocol and both ports, network byte order), with
    /// NLM_F_ACK: the kernel answers with the entry (IPCTNL_MSG_CT_NEW), then an ack, or an error.
    public static func request(tuple: PacketFlow, sequence: UInt32) -> [UInt8] {
        Conntrack.message(IPCTNL_MSG_CT_GET, sequence: sequence, capacity: 256) { header in
            let outer = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_REPLY.rawValue))
            let addresses = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_IP.rawValue))
            mnl_attr_put_u32(header, UInt16(CTA_IP_V4_SRC.rawValue), tuple.source.value.bigEndian)
            mnl_attr_put_u32(header, UInt16(CTA_IP_V4_DST.rawValue), tuple.destination.value.bigEndian)
            mnl_attr_nest_end(header, addresses)
            let transport = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_PROTO.rawValue))
            mnl_attr_put_u8(header, UInt16(CTA_PROTO_NUM.rawValue), tuple.proto)
            mnl_attr_put_u16(header, UInt16(CTA_PROTO_SRC_PORT.rawValue), (tuple.sourcePort ?? 0).bigEndian)
            mnl_attr_put_u16(header, UInt16(CTA_PROTO_DST_PORT.rawValue), (tuple.destinationPort ?? 0).bigEndian)
            mnl_attr_nest_end(header, transport)
            mnl_attr_nest_end(header, outer)
        }
    }

    /// Sends `request` through the one netlink exchange (`NetlinkSocket.exchange`) and reads the
    /// entry from its answers; ENOENT is no entry.
    private func exchange(_ request: [UInt8], sequence: UInt32) throws(KernelError) -> TrackedConnection? {
        let reply = try socket.exchange(request, expecting: [sequence])
        if let ack = reply.acks.first ?? nil, ack.errno != 0 {
            if ack.errno == ENOENT { return nil }
            throw KernelError("ctnetlink get", subject: socket.label, errno: ack.errno)
        }
        for answer in reply.answers {
            let found = answer.withUnsafeBytes { raw -> TrackedConnection? in
                guard let base = raw.baseAddress else { return nil }
                let header = base.assumingMemoryBound(to: nlmsghdr.self)
                return header.pointee.nlmsg_type == ConntrackEvents.newType ? ConntrackEvents.connection(header) : nil
            }
            if let found { return found }
        }
        return nil
    }
}
