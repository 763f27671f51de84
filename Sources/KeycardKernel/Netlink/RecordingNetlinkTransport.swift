/// A `NetlinkTransport` that touches no kernel: it keeps every datagram it is given (for golden
/// bytes) and acknowledges every expected sequence number with success, unless `answer` says
/// otherwise. Needs no root.
public final class RecordingNetlinkTransport: NetlinkTransport {
    /// One exchange as it was asked for.
    public struct Exchange: Sendable, Hashable {
        public var bytes: [UInt8]
        public var expecting: [UInt32]
    }

    public let label: String
    /// Every exchange, oldest first.
    public private(set) var exchanges: [Exchange] = []
    /// Decides the ack of each expected sequence number (exchange index, position in the
    /// exchange, sequence); nil leaves it unanswered. Default: success.
    public var answer: @Sendable (_ exchange: Int, _ position: Int, _ sequence: UInt32) -> NetlinkAck?

    public init(label: String = "recording") {
        self.label = label
        answer = { _, _, sequence in NetlinkAck(sequence: sequence) }
    }

    public func exchange(_ datagram: UnsafeRawBufferPointer, expecting: [UInt32]) throws(KernelError) -> NetlinkReply {
        let index = exchanges.count
        exchanges.append(Exchange(bytes: Array(datagram), expecting: expecting))
        return NetlinkReply(acks: expecting.enumerated().map { answer(index, $0.offset, $0.element) })
    }
}
