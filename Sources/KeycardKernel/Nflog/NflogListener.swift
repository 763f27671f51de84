import CNetfilter
import Glibc
import KeycardValues

/// Reads the packets the kernel logs to one NFLOG group inside one lab namespace (nfnetlink_log).
///
/// NFLOG groups are per network namespace, so every lab namespace can use the same group number. The
/// netlink socket is opened inside the namespace (and checked to be there, never the host's); it stays
/// there, so the listener is read from any thread afterwards. One listener per group and namespace: the
/// kernel refuses a second bind of a group (EBUSY).
public final class NflogListener {
    public let namespace: String
    public let group: UInt16
    /// Datagrams lost to a full receive buffer (ENOBUFS) or unparsable: that evidence is gone, and the
    /// probe timeout covers it.
    public private(set) var lost = 0

    private let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// The netlink socket's descriptor, for epoll: readable while logged packets are queued.
    public var fd: Int32 { socket.fd }

    /// Opens a NETLINK_NETFILTER socket inside `namespace` and binds it to `group` in copy-packet mode
    /// (the first `copyRange` bytes of each packet, enough for the IPv4 and TCP/UDP headers), with a
    /// queue threshold of one packet so each drop is reported at once.
    /// - Parameter receiveBuffer: SO_RCVBUFFORCE bytes (the kernel doubles it): a message costs about 1 KiB
    ///   of buffer, and a node namespace may log every probe of a 4,000-socket wave before it is read.
    public init(namespace: String, group: UInt16, copyRange: UInt32 = 64, receiveBuffer: Int32 = 8 << 20) throws(KernelError) {
        self.namespace = namespace
        self.group = group
        socket = try NetlinkSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
        try socket.setIntOption(SO_RCVBUFFORCE, receiveBuffer, name: "SO_RCVBUFFORCE")
        try configure(copyRange: copyRange)
    }

    /// Sends the bind/config request and checks its acknowledgement through the one netlink
    /// exchange (packets logged before the ack are read there and skipped: they are not acks).
    private func configure(copyRange: UInt32) throws(KernelError) {
        let sequence = UInt32(truncatingIfNeeded: time(nil))
        let request = NflogMessages.bind(group: group, copyRange: copyRange, sequence: sequence)
        let subject = "\(namespace) group \(group)"
        let reply = try socket.exchange(request, expecting: [sequence])
        guard let ack = reply.acks.first ?? nil else {
            throw KernelError("nfnetlink_log config: no ack", subject: subject, errno: EPROTO)
        }
        if ack.errno != 0 { throw KernelError("nfnetlink_log config", subject: subject, errno: ack.errno) }
    }

    /// Reads every queued message without blocking; the logged packets, oldest first.
    public func drain() throws(KernelError) -> [LoggedPacket] {
        var packets: [LoggedPacket] = []
        let portID = mnl_socket_get_portid(socket.raw)
        lost += try socket.drain(into: &buffer, subject: "nfnetlink_log \(namespace) group \(group)") { datagram in
            guard let parsed = NflogMessages.packets(in: datagram, portID: portID) else { return false }
            packets += parsed
            return true
        }
        return packets
    }

    /// Waits up to `timeout` for something to be queued, then drains (for one-off reads and tests).
    public func receive(timeout: Duration) throws(KernelError) -> [LoggedPacket] {
        var entry = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let ready = poll(&entry, 1, milliseconds)
        if ready < 0 && errno != EINTR { throw KernelError("poll nfnetlink_log", subject: namespace, errno: errno) }
        return ready > 0 ? try drain() : []
    }
}
