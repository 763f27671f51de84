import CLinuxShim
import Glibc

/// The epoll loop of a `PortServer`: tokens are listener indices (client-first connections:
/// `connectionToken` + descriptor); an eventfd wakes it to stop.
final class ServerLoop: @unchecked Sendable {
    private let listeners: [Listener]
    private let epoll: Epoll
    private let wakeFD: Int32
    private static let wakeToken = UInt64.max
    private static let connectionToken: UInt64 = 1 << 40
    /// Read the client's request before answering (`PortServer.clientFirst`).
    private let clientFirst: Bool
    /// Client-first connections waiting for their request: descriptor → (listener index, bytes so far).
    private var waiting: [Int32: (listener: Int, received: [UInt8])] = [:]

    init(listeners: [Listener], clientFirst: Bool = false) throws(KernelError) {
        self.listeners = listeners
        self.clientFirst = clientFirst
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
                if event.token >= Self.connectionToken {
                    readRequest(Int32(event.token - Self.connectionToken))
                    continue
                }
                let listener = listeners[Int(event.token)]
                if listener.endpoint.proto == .udp { answerDatagrams(listener) } else { acceptAll(listener, index: Int(event.token)) }
            }
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
    }

    func closeAll() {
        for listener in listeners { close(listener.fd) }
        for fd in waiting.keys { close(fd) }
        waiting = [:]
        close(wakeFD)
    }

    /// Accepts until the queue is empty; each connection gets the line and is closed (FIN after data).
    private func acceptAll(_ listener: Listener, index: Int) {
        while true {
            // accept4 is hidden behind _GNU_SOURCE; a blocking accepted socket is fine for one tiny
            // MSG_DONTWAIT write and a close.
            let fd = accept(listener.fd, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN: drained; EMFILE and the like: retried on the next event
            }
            if clientFirst {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                waiting[fd] = (index, [])
                if (try? epoll.add(fd, events: EpollFlag.input, token: Self.connectionToken + UInt64(fd))) == nil {
                    waiting[fd] = nil
                    close(fd)
                }
                continue
            }
            _ = SocketCalls.send(fd, listener.reply)
            close(fd)
        }
    }

    /// A client-first connection is readable: once its request is whole (a line, or an HTTP head),
    /// answer and close. Everything the client sent has been read, so the close is a FIN, not a RST.
    private func readRequest(_ fd: Int32) {
        guard var entry = waiting[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var ended = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            if count <= 0 {
                ended = true
                break
            }
            entry.received += buffer.prefix(count)
            if entry.received.count > 65536 {
                ended = true
                break
            }
        }
        let line = listeners[entry.listener].endpoint.line
        guard let reply = ClientFirstReply.reply(to: entry.received, line: line, ended: ended) else {
            waiting[fd] = entry
            return
        }
        waiting[fd] = nil
        _ = SocketCalls.send(fd, reply)
        close(fd)
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
