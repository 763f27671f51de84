import Glibc
import KeycardValues

/// `IPv4` <-> `sockaddr_in`, the only address form the sockets layer hands the kernel.
enum IPv4Sockaddr {
    /// The socket address of `address`:`port`, both in network byte order.
    static func make(_ address: IPv4, port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = address.value.bigEndian
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
