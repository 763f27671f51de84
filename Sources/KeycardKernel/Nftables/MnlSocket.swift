import CNetfilter
import Glibc

/// Owns a bound `struct mnl_socket` (mnl_socket_open + mnl_socket_bind; closed in deinit).
/// The socket stays in the network namespace of the thread that opened it.
final class MnlSocket {
    let raw: OpaquePointer
    let fd: Int32

    init(protocol bus: Int32) throws(KernelError) {
        guard let raw = mnl_socket_open(bus) else { throw KernelError("mnl_socket_open", errno: errno) }
        if mnl_socket_bind(raw, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            let code = errno
            mnl_socket_close(raw)
            throw KernelError("mnl_socket_bind", errno: code)
        }
        self.raw = raw
        fd = mnl_socket_get_fd(raw)
    }

    deinit { mnl_socket_close(raw) }

    /// Opens and binds a netlink socket inside lab namespace `namespace` (where it then stays), and
    /// checks that it really lives there and not in the host's namespace.
    static func open(protocol bus: Int32, inNamespace namespace: String) throws(KernelError) -> MnlSocket {
        let forbidden = SocketNamespaceGuard.hostInodes()
        let opened: MnlSocket
        do {
            opened = try NetworkNamespace.perform(in: namespace) { () throws(KernelError) -> MnlSocket in
                try MnlSocket(protocol: bus)
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

    /// setsockopt(SOL_SOCKET, option) with an int, e.g. SO_SNDBUFFORCE (needs CAP_NET_ADMIN).
    func setIntOption(_ option: Int32, _ value: Int32, name: String) throws(KernelError) {
        var value = value
        try syscall("setsockopt \(name)", "netfilter socket") {
            setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
