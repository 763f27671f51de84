import CNetfilter
import Glibc

extension NftablesProgrammer {
    /// Sends the whole batch in one sendmsg and reads one ack per message; the first error
    /// (lowest sequence) is thrown naming the object. The kernel handles the batch inside sendmsg,
    /// so every ack is already queued when it returns.
    func send(_ batch: NftBatch) throws(KernelError) -> NftBatchReport {
        // Without END the kernel acknowledges every message and then silently aborts.
        batch.finish()
        try raiseBuffers(bytes: batch.length, acks: batch.entries.count)
        let sendStart = ContinuousClock.now
        let sent = mnl_socket_sendto(socket.raw, batch.storage, batch.length)
        if sent < 0 { throw KernelError("sendmsg nftables batch", subject: "\(batch.length) bytes", errno: errno) }
        let ackStart = ContinuousClock.now
        try readAcks(for: batch)
        let end = ContinuousClock.now
        let report = NftBatchReport(
            messages: batch.entries.map(\.kind), bytes: batch.length, buildSeconds: buildTime.seconds,
            sendSeconds: (ackStart - sendStart).seconds, ackSeconds: (end - ackStart).seconds)
        buildTime = .zero
        lastBatch = report
        return report
    }

    private func raiseBuffers(bytes: Int, acks: Int) throws(KernelError) {
        // netlink refuses a message larger than sk_sndbuf; every ack (an skb of ~1 KiB truesize)
        // must fit in the receive queue at once or it is dropped (ENOBUFS).
        try raise(SO_SNDBUFFORCE, "SO_SNDBUFFORCE", to: bytes + 64 * 1024, current: \.sendBufferSize)
        try raise(SO_RCVBUFFORCE, "SO_RCVBUFFORCE", to: acks * 1024 + 256 * 1024, current: \.receiveBufferSize)
    }

    private func raise(
        _ option: Int32, _ name: String, to wanted: Int, current: ReferenceWritableKeyPath<NftablesProgrammer, Int>
    ) throws(KernelError) {
        guard wanted > self[keyPath: current] else { return }
        let size = max(wanted, 1 << 20)
        try socket.setIntOption(option, Int32(clamping: size), name: name)
        self[keyPath: current] = size
    }

    private func readAcks(for batch: NftBatch) throws(KernelError) {
        let count = batch.entries.count
        var acked = [Bool](repeating: false, count: count)
        var ackedCount = 0
        var firstError: (index: Int, code: Int32)?
        let capacity = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while ackedCount < count || firstError != nil {
            let received = recv(socket.fd, buffer, capacity, Int32(MSG_DONTWAIT))
            if received < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                throw KernelError("recv nftables acks", subject: "\(ackedCount) of \(count) acked", errno: errno)
            }
            var offset = 0
            while offset + 16 <= received {
                let length = Int(buffer.load(fromByteOffset: offset, as: UInt32.self))
                let type = buffer.load(fromByteOffset: offset + 4, as: UInt16.self)
                let seq = buffer.load(fromByteOffset: offset + 8, as: UInt32.self)
                guard length >= 16, offset + length <= received else { break }
                if type == UInt16(NLMSG_ERROR), length >= 20, let index = batch.entryIndex(ofSequence: seq) {
                    let code = buffer.load(fromByteOffset: offset + 16, as: Int32.self)
                    if !acked[index] {
                        acked[index] = true
                        ackedCount += 1
                    }
                    if code != 0, firstError.map({ index < $0.index }) ?? true { firstError = (index, -code) }
                }
                offset += align4(length)
            }
        }
        if let (index, code) = firstError {
            let entry = batch.entries[index]
            throw KernelError("nftables transaction aborted: \(entry.kind.verb)", subject: entry.subject, errno: code)
        }
        if ackedCount < count {
            throw KernelError("nftables transaction: missing acks", subject: "\(count - ackedCount) of \(count)", errno: EPROTO)
        }
    }
}
