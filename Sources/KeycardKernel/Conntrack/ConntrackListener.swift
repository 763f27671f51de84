import CNetfilter
import Glibc

/// Reads the connections conntrack confirms inside one lab namespace: the ctnetlink multicast
/// group NFNLGRP_CONNTRACK_NEW, one IPCTNL_MSG_CT_NEW event per connection when its first packet
/// has passed every hook of the namespace (a packet a rule dropped is never confirmed, so it
/// makes no event). Conntrack tables and their events are per network namespace: the socket is
/// opened inside the namespace (and checked to be there, never the host's) and stays there.
/// Multicast: any number of listeners may watch one namespace, unlike an NFLOG group.
public final class ConntrackListener {
    public let namespace: String
    /// Datagrams lost to a full receive buffer (ENOBUFS) or unparsable.
    public private(set) var lost = 0

    private let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// The socket's descriptor, for poll/epoll: readable while events are queued.
    public var fd: Int32 { socket.fd }

    /// Opens a NETLINK_NETFILTER socket inside `namespace` and joins NFNLGRP_CONNTRACK_NEW.
    /// - Parameter receiveBuffer: SO_RCVBUFFORCE bytes (an event costs about 300 bytes of buffer;
    ///   a probe wave of thousands of connections may be read only when it ends).
    public init(namespace: String, receiveBuffer: Int32 = 4 << 20) throws(KernelError) {
        self.namespace = namespace
        socket = try NetlinkSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
        try socket.setIntOption(SO_RCVBUFFORCE, receiveBuffer, name: "SO_RCVBUFFORCE")
        var group = Int32(NFNLGRP_CONNTRACK_NEW.rawValue)
        try syscall("setsockopt NETLINK_ADD_MEMBERSHIP", namespace) {
            setsockopt(socket.fd, Int32(SOL_NETLINK), Int32(NETLINK_ADD_MEMBERSHIP), &group, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Reads every queued event without blocking; the new connections, oldest first.
    public func drain() throws(KernelError) -> [TrackedConnection] {
        var flows: [TrackedConnection] = []
        lost += try socket.drain(into: &buffer, subject: "ctnetlink events in \(namespace)") { datagram in
            guard let parsed = ConntrackEvents.newConnections(in: datagram) else { return false }
            flows += parsed
            return true
        }
        return flows
    }
}
