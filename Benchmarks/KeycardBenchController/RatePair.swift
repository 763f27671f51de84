import Foundation
import KeycardKernel
import KeycardValues

/// Two lab namespaces joined by a veth: the client side A (10.99.0.1/24) and the server side B
/// (10.99.0.2/24), with a TCP listener in B accepted and closed by one thread.
final class RatePair {
    let lab: String
    let client: String
    let server: String
    static let clientAddress = IPv4(0x0A63_0001)
    static let serverAddress = IPv4(0x0A63_0002)
    private var listener: Int32 = -1
    private var acceptor: OneShotThread?

    init(lab: String) throws {
        self.lab = lab
        client = "kc-\(lab).pod.bench.client"
        server = "kc-\(lab).pod.bench.server"
        try NetworkNamespace.create(client)
        do {
            try NetworkNamespace.create(server)
            try wire()
            try listen()
        } catch {
            close()
            throw error
        }
    }

    /// The veth is born in A with its peer in B (IFLA_NET_NS_FD): nothing touches the host namespace.
    private func wire() throws {
        let serverFD = try NetworkNamespace.openDescriptor(server)
        defer { serverFD.close() }
        try LinkConfigurator.open(inNamespace: client).apply([
            .createVeth(name: "eth0", index: 10, peerName: "eth0", peerIndex: 10, peerNamespaceFD: serverFD.raw, up: true),
            .setLinkUp(index: 1),
            .addAddress(index: 10, address: Self.clientAddress, prefixLength: 24),
        ])
        try LinkConfigurator.open(inNamespace: server).apply([
            .setLinkUp(index: 10), .setLinkUp(index: 1), .addAddress(index: 10, address: Self.serverAddress, prefixLength: 24),
        ])
        try Sysctl.write("net/core/somaxconn", "8192", inNamespace: server)
        // Reset connections leave conntrack entries in CLOSE state: keep them short-lived.
        try? Sysctl.write("net/netfilter/nf_conntrack_tcp_timeout_close", "1", inNamespace: server)
    }

    private func listen() throws {
        let serverInode = NetworkNamespace.inode(of: server)
        let fd = try NetworkNamespace.perform(in: server) { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw BenchError("socket in \(server): errno \(errno)") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = Self.socketAddress(Self.serverAddress.value, UInt16(BenchClusters.port))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, Glibc.listen(fd, 8192) == 0 else {
                Glibc.close(fd)
                throw BenchError("bind/listen in \(server): errno \(errno)")
            }
            return fd
        }
        try SocketNamespaceGuard.check(socket: fd, expectedInode: serverInode ?? 0)
        listener = fd
        acceptor = OneShotThread {
            while true {
                let accepted = accept(fd, nil, nil)
                if accepted >= 0 { Glibc.close(accepted); continue }
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // shutdown() in close() ends the loop with EINVAL
            }
        }
    }

    /// Gives A a route to 10.98.0.0/16 out of eth0 with its own address as source, so that Service
    /// ClusterIPs there can be connected to (A's nat output hook then translates them to B).
    func addServiceRoute() throws {
        try LinkConfigurator.open(inNamespace: client).apply([
            .addRoute(
                RouteRequest(
                    destination: .ipv4(Self.serviceNetwork, 16), outputIndex: 10, scope: .link, preferredSource: Self.clientAddress))
        ])
    }

    static let serviceNetwork = IPv4(0x0A62_0000)

    /// Connections per second for `duration` seconds: socket, connect, close with RST (SO_LINGER 0,
    /// so no TIME_WAIT exhausts the ports), all inside A on the calling thread. `destination`:
    /// B's address and port unless given (a ClusterIP).
    func rate(for duration: Double, to destination: (address: UInt32, port: UInt16)? = nil) throws -> (rate: Double, failures: Int) {
        let forbidden = SocketNamespaceGuard.hostInodes()
        guard let clientInode = NetworkNamespace.inode(of: client) else { throw BenchError("no namespace \(client)") }
        return try NetworkNamespace.perform(in: client) { () throws -> (Double, Int) in
            guard NetworkNamespace.currentInode() == clientInode else { throw BenchError("not inside \(client)") }
            var target = Self.socketAddress(
                destination?.address ?? Self.serverAddress.value, destination?.port ?? UInt16(BenchClusters.port))
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            var connected = 0, failures = 0, checked = false
            let start = ContinuousClock.now
            let deadline = start + .nanoseconds(Int64(duration * 1e9))
            while ContinuousClock.now < deadline {
                for _ in 0..<64 {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                    guard fd >= 0 else { throw BenchError("socket in \(client): errno \(errno)") }
                    if !checked {
                        // Every socket of this loop is born on this thread in this window: check one.
                        try SocketNamespaceGuard.check(socket: fd, expectedInode: clientInode, forbiddenInodes: forbidden)
                        checked = true
                    }
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    let result = withUnsafePointer(to: &target) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                    if result == 0 { connected += 1 } else { failures += 1 }
                    Glibc.close(fd)
                }
            }
            return (Double(connected) / seconds(ContinuousClock.now - start), failures)
        }
    }

    func close() {
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            acceptor?.join()
            Glibc.close(listener)
            listener = -1
        }
        try? NetworkNamespace.delete(client)
        try? NetworkNamespace.delete(server)
    }

    static func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr = in_addr(s_addr: address.bigEndian)
        return sin
    }
}
