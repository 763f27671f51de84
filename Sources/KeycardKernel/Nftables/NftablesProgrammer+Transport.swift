import CNetfilter
import Glibc
import Logging

/// Every nftables transaction, at debug level.
private let logger = Logger(label: "keycard.nftables")

extension NftablesProgrammer {
    /// Sends the whole batch as one datagram over the transport and checks one ack per message;
    /// the first error (lowest sequence) is thrown naming the object.
    func send(_ batch: NftBatch) throws(KernelError) -> NftBatchReport {
        // Without END the kernel acknowledges every message and then silently aborts.
        batch.finish()
        let reply = try transport.exchange(
            UnsafeRawBufferPointer(start: batch.storage, count: batch.length), expecting: batch.sequences)
        if let (index, ack) = reply.firstFailure {
            let entry = batch.entries[index]
            let reason = ack.reason.map { " (\($0))" } ?? ""
            throw KernelError("nftables transaction aborted: \(entry.kind.verb)", subject: entry.subject + reason, errno: ack.errno)
        }
        if reply.missing > 0 {
            throw KernelError("nftables transaction: missing acks", subject: "\(reply.missing) of \(batch.entries.count)", errno: EPROTO)
        }
        let report = NftBatchReport(
            messages: batch.entries.map(\.kind), bytes: batch.length, buildSeconds: buildTime.seconds,
            sendSeconds: reply.sendSeconds, ackSeconds: reply.ackSeconds)
        buildTime = .zero
        lastBatch = report
        logger.debug("transaction committed", metadata: report.logMetadata)
        return report
    }
}
