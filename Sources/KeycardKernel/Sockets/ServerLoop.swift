import CLinuxShim
import Glibc

/// The epoll loop of a `PortServer`: tokens are listener indices; an eventfd wakes it to stop.
final class ServerLoop: @unchecked Sendable {
    private let listeners: [Listener]
    private let epoll: Epoll
    private let wakeFD: Int32
    private static let wakeToken = UInt64.max

    init(listeners: [Listener]) throws(KernelError) {
        self.listeners = listeners
        epoll = try Epoll(capacity: 512)
        wakeFD = try syscall("eventfd") { eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)) }
        try epoll.add(wakeFD, events: EpollFlag.input, token: Self.wakeToken)
        for (index, listener) in listeners.enumerated() {
            try epoll.add(listener.fd, events: EpollFlag.input, token: UInt64(index))
        }
    }

    /// Serves until `wake()`; runs on the server's own thread.
    func run() {
        while true {
            guard let events = try? epoll.wait(timeoutMilliseconds: -1) else { return }
            for event in events {
                if event.token == Self.wakeToken { return }
                let listener = listeners[Int(event.token)]
                if listener.endpoint.proto == .udp { answerDatagrams(listener) } else { acceptAll(listener) }
            }
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
    }

    func closeAll() {
        for listener in listeners { close(listener.fd) }
        close(wakeFD)
    }

    /// Accepts until the queue is empty; each connection gets the line and is closed (FIN after data).
    private func acceptAll(_ listener: Listener) {
        while true {
            // accept4 is hidden behind _GNU_SOURCE; a blocking accepted socket is fine for one tiny
            // MSG_DONTWAIT write and a close.
            let fd = accept(listener.fd, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN: drained; EMFILE and the like: retried on the next event
            }
            _ = SocketCalls.send(fd, listener.reply)
            close(fd)
        }
    }

    /// Answers every queued datagram with the line, to its sender.
    private func answerDatagrams(_ listener: Listener) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(listener.fd, bytes.baseAddress, bytes.count, kc_msg_dontwait(), $0, &peerLength)
                    }
                }
            }
            if received < 0 {
                if errno == EINTR { continue }
                return
            }
            listener.reply.withUnsafeBytes { reply in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        _ = sendto(listener.fd, reply.baseAddress, reply.count, (kc_msg_dontwait() | Int32(MSG_NOSIGNAL)), $0, peerLength)
                    }
                }
            }
        }
    }
}
