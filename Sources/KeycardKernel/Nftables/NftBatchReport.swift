/// What one transaction sent and where its time went.
public struct NftBatchReport: Sendable, Hashable {
    /// Every message in order (BEGIN and END excluded).
    public var messages: [NftMessageKind]
    /// Bytes handed to sendmsg.
    public var bytes: Int
    /// Lowering to libnftnl and writing the batch.
    public var buildSeconds: Double
    /// The sendmsg call: the kernel processes the whole transaction inside it.
    public var sendSeconds: Double
    /// Reading and checking the acknowledgements.
    public var ackSeconds: Double

    /// How many messages of `kind` the batch held.
    public func count(_ kind: NftMessageKind) -> Int { messages.lazy.filter { $0 == kind }.count }

    /// The distinct kinds sent.
    public var kinds: Set<NftMessageKind> { Set(messages) }

    public var totalSeconds: Double { buildSeconds + sendSeconds + ackSeconds }

    /// Two batches sent one after the other, counted as one report.
    public func merged(with later: NftBatchReport) -> NftBatchReport {
        var sum = self
        sum.messages += later.messages
        sum.bytes += later.bytes
        sum.buildSeconds += later.buildSeconds
        sum.sendSeconds += later.sendSeconds
        sum.ackSeconds += later.ackSeconds
        return sum
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
