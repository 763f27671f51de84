import Foundation
import Glibc
import KeycardKernel
import KeycardValues

/// Plain sockets for the mesh capture tests, each created inside a lab namespace and checked to be
/// there before it sends anything (a socket in the host namespace would leave the machine).
enum MeshSockets {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func address(_ ip: IPv4, _ port: UInt16) -> sockaddr_in {
        var value = sockaddr_in()
        value.sin_family = sa_family_t(AF_INET)
        value.sin_port = port.bigEndian
        value.sin_addr.s_addr = ip.value.bigEndian
        return value
    }

    /// A socket of `type` born in `netns`, refused if it is not there (or is in the host's).
    static func socket(in netns: String, _ type: Int32) throws -> Int32 {
        let fd = try NetworkNamespace.perform(in: netns) { Glibc.socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        guard fd >= 0 else { throw Failure("socket in \(netns): errno \(errno)") }
        guard let expected = NetworkNamespace.inode(of: netns), try NetworkNamespace.inode(ofSocket: fd) == expected,
            expected != NetworkNamespace.hostInode()
        else {
            close(fd)
            throw Failure("socket not in \(netns)")
        }
        return fd
    }

    static func bind(_ fd: Int32, _ ip: IPv4, _ port: UInt16) throws {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = address(ip, port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind \(ip):\(port): errno \(errno)") }
    }

    /// A TCP listener on `ip:port` inside `netns` (the proxy's stand-in).
    static func listen(in netns: String, _ ip: IPv4, _ port: UInt16) throws -> Int32 {
        let fd = try socket(in: netns, Int32(SOCK_STREAM.rawValue))
        do {
            try bind(fd, ip, port)
            guard Glibc.listen(fd, 64) == 0 else { throw Failure("listen: errno \(errno)") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// The connection waiting on `listener` (within `milliseconds`), or nil.
    static func accept(_ listener: Int32, milliseconds: Int32 = 200) -> Int32? {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        let fd = Glibc.accept(listener, nil, nil)
        return fd >= 0 ? fd : nil
    }

    /// A TCP connection from inside `netns` to `ip:port`, its socket marked with `mark` if given;
    /// nil when it does not open within a second (dropped) or is refused.
    static func connect(from netns: String, to ip: IPv4, _ port: UInt16, mark: UInt32? = nil) throws -> Int32? {
        let fd = try socket(in: netns, Int32(SOCK_STREAM.rawValue))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let mark { try MeshSocketOptions.setMark(fd, mark) }
        var remote = address(ip, port)
        let rc = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }

    /// The first line a server writes on `fd` (the lab's servers write their owner's name), or nil.
    static func firstLine(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    /// Sends one UDP datagram from inside `netns` to `ip:port` and returns the first line of the
    /// answer (within a second), or nil.
    static func udpExchange(from netns: String, to ip: IPv4, _ port: UInt16) throws -> String? {
        let fd = try socket(in: netns, Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var remote = address(ip, port)
        let sent = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, "mesh?", 5, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == 5 else { return nil }
        return firstLine(fd)
    }

    /// Whether a datagram is waiting on the UDP socket `fd` (within `milliseconds`).
    static func hasDatagram(_ fd: Int32, milliseconds: Int32 = 100) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, milliseconds) == 1
    }
}
