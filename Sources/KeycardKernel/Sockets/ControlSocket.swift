import Foundation
import Glibc

/// A local control channel: a Unix stream socket at a path, carrying length-prefixed messages
/// (4 bytes big-endian length, then the bytes). The listening end is created mode 0600 and only
/// accepts peers running as root (`SO_PEERCRED`).
public enum ControlSocket {
    /// The largest message either end accepts.
    public static let maximumMessage = 16 << 20

    /// `socket(AF_UNIX, SOCK_STREAM)` bound at `path` (a stale file there is removed first) with
    /// mode 0600 from the start (umask 0177 around `bind`), then `listen`.
    public static func listen(at path: String) throws(KernelError) -> OwnedDescriptor {
        let fd = OwnedDescriptor(
            try syscall("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) })
        unlink(path)
        var address = try socketAddress(path)
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let bindErrno = errno
        umask(previous)
        guard bound == 0 else { throw KernelError("bind", subject: path, errno: bindErrno) }
        try syscall("chmod", path) { chmod(path, 0o600) }
        try syscall("listen", path) { Glibc.listen(fd.raw, 16) }
        return fd
    }

    /// Waits up to `milliseconds` for a connection on `listener` (`poll`, then `accept4`). Returns
    /// nil when none came or the peer is not root (that connection is closed at once).
    public static func accept(_ listener: OwnedDescriptor, milliseconds: Int32) -> OwnedDescriptor? {
        var entry = pollfd(fd: listener.raw, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return nil }
        let raw = Glibc.accept(listener.raw, nil, nil)
        guard raw >= 0 else { return nil }
        let client = OwnedDescriptor(raw)
        _ = fcntl(raw, F_SETFD, FD_CLOEXEC)
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(raw, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, credentials.uid == 0 else { return nil }
        return client
    }

    /// Connects to the listener at `path`; nil when nothing listens there (no file, or a file left
    /// by a process that is gone: ENOENT, ECONNREFUSED).
    public static func connect(to path: String) throws(KernelError) -> OwnedDescriptor? {
        let fd = OwnedDescriptor(
            try syscall("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) })
        var address = try socketAddress(path)
        while true {
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd.raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 { return fd }
            switch errno {
            case EINTR: continue
            case ENOENT, ECONNREFUSED: return nil
            case let code: throw KernelError("connect", subject: path, errno: code)
            }
        }
    }

    /// Sends one message (`send` until every byte is out).
    public static func send(_ message: Data, on fd: OwnedDescriptor) throws(KernelError) {
        var length = UInt32(message.count).bigEndian
        var bytes = Data(bytes: &length, count: 4)
        bytes.append(message)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return buffer.count }
                return Glibc.send(fd.raw, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw KernelError("send", subject: "control socket", errno: errno)
            }
            offset += sent
        }
    }

    /// Receives one message; nil when the peer closed the connection before a whole one came.
    /// While nothing arrives it asks `giveUp` every 200 ms; once that says true it throws
    /// `ECANCELED` (a peer that hangs need not hold the caller for ever).
    public static func receive(on fd: OwnedDescriptor, giveUp: () -> Bool = { false }) throws(KernelError) -> Data? {
        guard let header = try read(4, from: fd, giveUp: giveUp) else { return nil }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length <= maximumMessage else { throw KernelError("recv", subject: "control message of \(length) bytes", errno: EMSGSIZE) }
        return try read(length, from: fd, giveUp: giveUp)
    }

    private static func read(_ count: Int, from fd: OwnedDescriptor, giveUp: () -> Bool) throws(KernelError) -> Data? {
        var data = Data(count: count)
        if count == 0 { return data }
        var offset = 0
        while offset < count {
            var entry = pollfd(fd: fd.raw, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 200)
            if ready == 0 || (ready < 0 && errno == EINTR) {
                if giveUp() { throw KernelError("recv", subject: "control socket", errno: ECANCELED) }
                continue
            }
            let got = data.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return recv(fd.raw, base + offset, count - offset, 0)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw KernelError("recv", subject: "control socket", errno: errno)
            }
            if got == 0 { return nil }
            offset += got
        }
        return data
    }

    private static func socketAddress(_ path: String) throws(KernelError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw KernelError("bind", subject: path, errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return address
    }
}

/// `struct ucred` (SO_PEERCRED), which Glibc shows only under _GNU_SOURCE.
private struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = UInt32.max
    var gid: UInt32 = UInt32.max
}
