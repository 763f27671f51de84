import CLinuxShim
import Glibc

/// An epoll instance (epoll_create1/epoll_ctl/epoll_wait) whose events carry a 64-bit token.
final class Epoll {
    let fd: Int32
    private var buffer: [epoll_event]

    init(capacity: Int = 1024) throws(KernelError) {
        fd = try syscall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        buffer = Array(repeating: epoll_event(), count: max(capacity, 1))
    }

    deinit { close(fd) }

    /// epoll_ctl(EPOLL_CTL_ADD).
    func add(_ descriptor: Int32, events: UInt32, token: UInt64) throws(KernelError) {
        try control(EPOLL_CTL_ADD, descriptor, events: events, token: token)
    }

    /// epoll_ctl(EPOLL_CTL_MOD).
    func modify(_ descriptor: Int32, events: UInt32, token: UInt64) throws(KernelError) {
        try control(EPOLL_CTL_MOD, descriptor, events: events, token: token)
    }

    /// epoll_ctl(EPOLL_CTL_DEL); closing the descriptor would do the same, so failures are ignored.
    func remove(_ descriptor: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, &event)
    }

    /// epoll_wait for at most `timeoutMilliseconds` (-1: forever); returns (token, events) pairs.
    func wait(timeoutMilliseconds: Int32) throws(KernelError) -> [(token: UInt64, events: UInt32)] {
        let count = buffer.withUnsafeMutableBufferPointer { events in
            epoll_wait(fd, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        }
        if count < 0 {
            if errno == EINTR { return [] }
            throw KernelError("epoll_wait", errno: errno)
        }
        return (0..<Int(count)).map { (buffer[$0].data.u64, buffer[$0].events) }
    }

    private func control(_ op: Int32, _ descriptor: Int32, events: UInt32, token: UInt64) throws(KernelError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        try syscall("epoll_ctl", "fd \(descriptor)") { epoll_ctl(fd, op, descriptor, &event) }
    }
}

/// The EPOLL* flags as the UInt32 epoll_event.events wants them.
enum EpollFlag {
    static let input = UInt32(EPOLLIN.rawValue)
    static let output = UInt32(EPOLLOUT.rawValue)
    static let error = UInt32(EPOLLERR.rawValue)
    static let hangUp = UInt32(EPOLLHUP.rawValue)
}
