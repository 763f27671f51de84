import Logging

extension NftBatchReport {
    /// A batch's fields in a debug log line, the same for one transaction and for a lab's whole
    /// programming: `messages` (count, BEGIN and END excluded), `bytes` (handed to sendmsg) and `ms`
    /// (the kernel's part: send and ack, in whole milliseconds; building is not counted).
    public var logMetadata: Logger.Metadata {
        ["messages": "\(messages.count)", "bytes": "\(bytes)", "ms": "\(Int((sendSeconds + ackSeconds) * 1000))"]
    }

    /// Several batches counted as one report (`merged(with:)`); no batches: nothing sent, no time.
    public static func total(_ reports: some Sequence<NftBatchReport>) -> NftBatchReport {
        reports.reduce(NftBatchReport(messages: [], bytes: 0, buildSeconds: 0, sendSeconds: 0, ackSeconds: 0)) { $0.merged(with: $1) }
    }
}
