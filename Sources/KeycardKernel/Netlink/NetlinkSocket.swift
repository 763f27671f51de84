import CLinuxShim
import CNetfilter
import Glibc

/// Owns a bound netlink socket (libmnl's `struct mnl_socket`: mnl_socket_open + mnl_socket_bind;
/// closed in deinit) and is the real `NetlinkTransport`. The socket stays in the network
/// namespace of the thread that opened it; `open(protocol:inNamespace:)` opens it inside a lab
/// namespace and checks it is there.
public final class NetlinkSocket: NetlinkTransport {
    let raw: OpaquePointer
    /// The socket's descriptor (for epoll, recv and setsockopt).
    public let fd: Int32
    public let label: String
    /// Buffer sizes asked for so far (bytes); below them the kernel's defaults (≈ 208 KiB) stand.
    private var sendBufferSize = 200 * 1024
    private var receiveBufferSize = 200 * 1024

    /// Opens and binds a socket of netlink family `bus` (NETLINK_ROUTE, NETLINK_NETFILTER) in the
    /// calling thread's namespace, with short acks (NETLINK_CAP_ACK) and the kernel's reasons
    /// (NETLINK_EXT_ACK).
    init(protocol bus: Int32, label: String) throws(KernelError) {
        guard let raw = mnl_socket_open(bus) else { throw KernelError("mnl_socket_open", subject: label, errno: errno) }
        if mnl_socket_bind(raw, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            let code = errno
            mnl_socket_close(raw)
            throw KernelError("mnl_socket_bind", subject: label, errno: code)
        }
        var one: Int32 = 1
        _ = mnl_socket_setsockopt(raw, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = mnl_socket_setsockopt(raw, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        self.raw = raw
        self.label = label
        fd = mnl_socket_get_fd(raw)
    }

    deinit { mnl_socket_close(raw) }

    /// Opens and binds a netlink socket inside lab namespace `namespace` (where it then stays), and
    /// checks that it really lives there and not in the host's namespace (EPERM otherwise).
    public static func open(protocol bus: Int32, inNamespace namespace: String) throws(KernelError) -> NetlinkSocket {
        let forbidden = SocketNamespaceGuard.hostInodes()
        let opened: NetlinkSocket
        do {
            opened = try NetworkNamespace.perform(in: namespace) { () throws(KernelError) -> NetlinkSocket in
                try NetlinkSocket(protocol: bus, label: namespace)
            }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("enter namespace", subject: namespace, errno: EIO)
        }
        guard let inode = NetworkNamespace.inode(of: namespace) else {
            throw KernelError("stat", subject: NetworkNamespace.path(namespace), errno: ENOENT)
        }
        try SocketNamespaceGuard.check(socket: opened.fd, expectedInode: inode, forbiddenInodes: forbidden)
        return opened
    }

    /// setsockopt(SOL_SOCKET, option) with an int, e.g. SO_RCVBUFFORCE (needs CAP_NET_ADMIN).
    func setIntOption(_ option: Int32, _ value: Int32, name: String) throws(KernelError) {
        var value = value
        try syscall("setsockopt \(name)", label) {
            setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Reads every queued datagram without blocking (multicast listeners: NFLOG, ctnetlink
    /// events), handing each to `parse`. Returns how many were lost: to a full receive buffer
    /// (ENOBUFS) or because `parse` could not read them (it returned false).
    /// - Throws: `KernelError` for any other recv error, labelled `subject`.
    func drain(into buffer: inout [UInt8], subject: String, _ parse: (UnsafeRawBufferPointer) -> Bool) throws(KernelError) -> Int {
        var lost = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, kc_msg_dontwait()) }
            if count < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: return lost
                case ENOBUFS:
                    lost += 1
                    continue
                default: throw KernelError("recv", subject: subject, errno: errno)
                }
            }
            if count == 0 { return lost }
            if !buffer.withUnsafeBytes({ parse(UnsafeRawBufferPointer(rebasing: $0[..<count])) }) { lost += 1 }
        }
    }

    /// The only netlink send/ack loop in keycard. One sendmsg, then non-blocking reads: the kernel
    /// handles every message inside sendmsg, so the acks are queued when it returns. Reading stops
    /// when every expected sequence number is answered, or, once the queue is empty, when a failure
    /// was seen (nfnetlink may leave messages after an aborted one unanswered); otherwise it waits
    /// up to `ackTimeout` for more. Other messages carrying an expected sequence number (the answer
    /// of a GET, which comes before its ack) are kept in `NetlinkReply.answers`; the rest (logged
    /// packets) are skipped.
    public func exchange(_ datagram: UnsafeRawBufferPointer, expecting: [UInt32]) throws(KernelError) -> NetlinkReply {
        try raiseBuffers(bytes: datagram.count, acks: expecting.count)
        var positions: [UInt32: Int] = [:]
        positions.reserveCapacity(expecting.count)
        for (position, sequence) in expecting.enumerated() { positions[sequence] = position }
        var acks = [NetlinkAck?](repeating: nil, count: expecting.count)
        let clock = ContinuousClock()
        let sendStart = clock.now
        if mnl_socket_sendto(raw, datagram.baseAddress, datagram.count) < 0 {
            throw KernelError("sendmsg netlink", subject: "\(datagram.count) bytes in \(label)", errno: errno)
        }
        let ackStart = clock.now
        var answered = 0
        var failed = false
        var answers: [[UInt8]] = []
        let capacity = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while answered < expecting.count {
            let received = recv(fd, buffer, capacity, Int32(MSG_DONTWAIT))
            if received < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    if failed { break }
                    if try !waitReadable() { break }
                    continue
                }
                throw KernelError("recv netlink acks", subject: "\(answered) of \(expecting.count) in \(label)", errno: errno)
            }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while let header = message, mnl_nlmsg_ok(header, remaining) {
                if let ack = NetlinkAckParser.ack(header) {
                    if let position = positions[ack.sequence], acks[position] == nil {
                        acks[position] = ack
                        answered += 1
                        if ack.errno != 0 { failed = true }
                    }
                } else if positions[header.pointee.nlmsg_seq] != nil {
                    answers.append(Array(UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len))))
                }
                message = UnsafePointer(mnl_nlmsg_next(header, &remaining))
            }
        }
        return NetlinkReply(
            acks: acks, answers: answers, sendSeconds: (ackStart - sendStart).seconds, ackSeconds: (clock.now - ackStart).seconds)
    }

    /// How long to wait for an ack that is not queued yet (the kernel answers inside sendmsg).
    static let ackTimeoutMilliseconds: Int32 = 5000

    private func waitReadable() throws(KernelError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&entry, 1, Self.ackTimeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw KernelError("poll netlink acks", subject: label, errno: errno) }
            return ready > 0
        }
    }

    /// The whole datagram must fit the send buffer (netlink refuses larger ones, EMSGSIZE), and
    /// every ack (an skb of ≈ 1 KiB truesize) the receive queue at once, or it is lost (ENOBUFS).
    private func raiseBuffers(bytes: Int, acks: Int) throws(KernelError) {
        let send = bytes + 64 * 1024
        if send > sendBufferSize {
            sendBufferSize = max(send, 1 << 20)
            try setIntOption(SO_SNDBUFFORCE, Int32(clamping: sendBufferSize), name: "SO_SNDBUFFORCE")
        }
        let receive = acks * 1024 + 64 * 1024
        if receive > receiveBufferSize {
            receiveBufferSize = max(receive + 192 * 1024, 1 << 20)
            try setIntOption(SO_RCVBUFFORCE, Int32(clamping: receiveBufferSize), name: "SO_RCVBUFFORCE")
        }
    }
}
