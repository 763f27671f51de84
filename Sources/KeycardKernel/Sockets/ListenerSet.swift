import Glibc

/// One bound socket of a `PortServer`.
struct Listener {
    let fd: Int32
    let endpoint: ServedEndpoint
    let reply: [UInt8]
}

/// Opening the listeners: grouped by namespace, one setns window per namespace.
enum ListenerSet {
    static func open(_ endpoints: [ServedEndpoint], backlog: Int32) throws(KernelError) -> (
        listeners: [Listener], unsupported: [ServedEndpoint]
    ) {
        var order: [String] = []
        var byNamespace: [String: [ServedEndpoint]] = [:]
        for endpoint in endpoints {
            if byNamespace[endpoint.namespace] == nil { order.append(endpoint.namespace) }
            byNamespace[endpoint.namespace, default: []].append(endpoint)
        }
        let namespaces = NamespaceHandles()
        var listeners: [Listener] = []
        var unsupported: [ServedEndpoint] = []
        do throws(KernelError) {
            for name in order {
                try namespaces.perform(in: name) { handle throws(KernelError) in
                    if namespaces.forbiddenInodes.contains(NetworkNamespace.currentInode()) {
                        throw KernelError("refuse to serve in the host namespace", subject: name, errno: EPERM)
                    }
                    if byNamespace[name, default: []].contains(where: { $0.proto == .tcp }) {
                        try raiseSomaxconn(to: backlog, namespace: name)
                    }
                    for endpoint in byNamespace[name, default: []] {
                        do throws(KernelError) {
                            let fd = try bind(endpoint, backlog: backlog, inode: handle.inode, forbidden: namespaces.forbiddenInodes)
                            listeners.append(Listener(fd: fd, endpoint: endpoint, reply: Array("\(endpoint.line)\n".utf8)))
                        } catch  where SocketCalls.isUnsupportedProtocol(error) {
                            unsupported.append(endpoint)
                        }
                    }
                }
            }
        } catch {
            for listener in listeners { close(listener.fd) }
            throw error
        }
        return (listeners, unsupported)
    }

    /// socket, SO_REUSEADDR, namespace check, bind, listen (TCP): the socket of one endpoint.
    private static func bind(
        _ endpoint: ServedEndpoint, backlog: Int32, inode: UInt64, forbidden: Set<UInt64>
    ) throws(KernelError) -> Int32 {
        let fd = try SocketCalls.open(endpoint.proto)
        do throws(KernelError) {
            try SocketCalls.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            try SocketNamespaceGuard.check(socket: fd, expectedInode: inode, forbiddenInodes: forbidden)
            let address = IPv4Sockaddr.make(endpoint.address, port: endpoint.port)
            try syscall("bind", "\(endpoint)") { IPv4Sockaddr.withSockaddr(address) { Glibc.bind(fd, $0, $1) } }
            if endpoint.proto != .udp {
                try syscall("listen", "\(endpoint)") { listen(fd, backlog) }
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Raises net.core.somaxconn of the namespace the thread is in (a per-namespace sysctl that caps the
    /// listen backlog) when it is below `backlog`. /proc/sys/net follows the thread's namespace.
    private static func raiseSomaxconn(to backlog: Int32, namespace: String) throws(KernelError) {
        let path = "/proc/sys/net/core/somaxconn"
        let fd = try syscall("open", path) { Glibc.open(path, O_RDWR | O_CLOEXEC) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
        let current = Int32(text.filter(\.isNumber)) ?? 0
        guard current < backlog else { return }
        let value = Array("\(backlog)\n".utf8)
        try syscall("write", "\(path) in \(namespace)") {
            value.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }
}
