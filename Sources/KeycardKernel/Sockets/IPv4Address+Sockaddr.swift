import Glibc

/// IPv4 text <-> `sockaddr_in`, the only address form the sockets layer uses.
enum IPv4Sockaddr {
    /// `inet_pton(AF_INET)`; throws EINVAL naming the text when it is not a dotted quad.
    static func make(_ address: String, port: UInt16) throws(KernelError) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
            throw KernelError("inet_pton", subject: address, errno: EINVAL)
        }
        return addr
    }

    /// Runs a socket call that takes `(const sockaddr *, socklen_t)`.
    static func withSockaddr<T>(_ addr: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var copy = addr
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// getsockname(): the local address and port a connected socket was bound to; nil on failure.
    static func local(of fd: Int32) -> sockaddr_in? {
        var addr = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 && addr.sin_family == sa_family_t(AF_INET) ? addr : nil
    }
}
