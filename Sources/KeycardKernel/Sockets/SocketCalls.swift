import CLinuxShim
import Glibc
import KeycardValues

/// The few socket calls the servers and the prober share, each naming itself in its error.
enum SocketCalls {
    /// socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) for `proto` on the calling thread
    /// (hence in the calling thread's network namespace).
    static func open(_ proto: TransportProtocol) throws(KernelError) -> Int32 {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let (type, number): (Int32, Int32) =
            switch proto {
            case .tcp: (Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_TCP))
            case .udp: (Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_UDP))
            case .sctp: (Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_SCTP))
            // A raw socket (root): the prober writes the echo request and reads the replies itself.
            case .icmp: (Int32(SOCK_RAW.rawValue), Int32(IPPROTO_ICMP))
            }
        return try syscall("socket", "\(proto)") { socket(AF_INET, type | flags, number) }
    }

    /// Whether `error` from `socket()` means "this kernel has no such protocol" rather than a failure.
    static func isUnsupportedProtocol(_ error: KernelError) -> Bool {
        error.errno == EPROTONOSUPPORT || error.errno == ESOCKTNOSUPPORT || error.errno == EAFNOSUPPORT
    }

    /// setsockopt with an Int32 value.
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(KernelError) {
        var value = value
        try syscall("setsockopt", label) {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// getsockopt(SO_ERROR): the pending error of a non-blocking connect (0 when it succeeded).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// send(MSG_NOSIGNAL | MSG_DONTWAIT) of all of `bytes` on a connected socket; the errno on failure.
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, (Int32(MSG_NOSIGNAL) | kc_msg_dontwait())) }
        return sent < 0 ? errno : nil
    }

    /// close() with SO_LINGER {on, 0}: a connected TCP socket ends with one RST instead of the FIN
    /// exchange, and neither end keeps a TIME_WAIT socket (nor conntrack a TIME_WAIT entry for
    /// 120 s). A probe has its answer when it closes, so nothing is lost; at a million probes the
    /// TIME_WAIT sockets and tracked entries would otherwise fill the kernel's tables.
    static func abort(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
    }
}
