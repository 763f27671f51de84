import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardTopology
import KeycardValues
import Testing

/// The host namespace as `ip` and `nft` see it: must be identical before and after a lab.
func hostSnapshot() throws -> [String] {
    try [["ip", "-j", "link"], ["ip", "-j", "addr"], ["ip", "-j", "route"], ["nft", "-j", "list", "ruleset"]].map(runWitness)
}

/// A lab name no other test (or engineer) uses: "t" + a random base36 tag.
func uniqueLabName(_ stem: String) -> String {
    "\(stem)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
}

/// The upstream-style 9 pods: namespaces x, y, z with pods a, b, c serving TCP and UDP 80, 81.
func ninePods(command: [String]? = nil) -> [PodSpec] {
    let ports: [ServedPort] = [.init(.tcp, 80), .init(.tcp, 81), .init(.udp, 80), .init(.udp, 81)]
    return ["x", "y", "z"].flatMap { ns in ["a", "b", "c"].map { PodSpec(namespace: ns, name: $0, ports: ports, command: command) } }
}

/// TCP reachability between lab namespaces, with every socket created inside a lab namespace and
/// its namespace checked before it connects (a socket in the host namespace would leave the machine).
enum TCPCheck {
    /// A listening socket bound to `address:port` inside `netns` (the kernel completes handshakes
    /// into the backlog, so nobody needs to accept).
    static func listen(in netns: String, _ address: IPv4, _ port: UInt16) throws -> Int32 {
        try NetworkNamespace.perform(in: netns) { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw KernelError("socket", subject: netns, errno: errno) }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var sin = socketAddress(address, port)
            let bound = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, Glibc.listen(fd, 512) == 0 else {
                let code = errno
                close(fd)
                throw KernelError("bind/listen", subject: "\(address):\(port) in \(netns)", errno: code)
            }
            return fd
        }
    }

    /// True when a TCP connection from inside `netns` to `address:port` completes within 1 s.
    static func canConnect(from netns: String, to address: IPv4, port: UInt16) throws -> Bool {
        let expected = try #require(NetworkNamespace.inode(of: netns))
        let fd = try NetworkNamespace.perform(in: netns) {
            socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        guard fd >= 0 else { throw KernelError("socket", subject: netns, errno: errno) }
        defer { close(fd) }
        guard try NetworkNamespace.inode(ofSocket: fd) == expected, expected != NetworkNamespace.hostInode() else {
            throw KernelError("socket namespace check", subject: netns, errno: EPERM)
        }
        var sin = socketAddress(address, port)
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0
    }

    static func socketAddress(_ address: IPv4, _ port: UInt16) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.value.bigEndian
        return sin
    }
}
