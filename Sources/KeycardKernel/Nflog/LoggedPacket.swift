import KeycardValues

/// One packet the kernel logged to an NFLOG group (an NFULNL_MSG_PACKET message of nfnetlink_log).
public struct LoggedPacket: Sendable, Hashable, CustomStringConvertible {
    /// The NFLOG group it was logged to (the message's res_id).
    public var group: UInt16
    /// The log statement's prefix (NFULA_PREFIX), "" when it had none.
    public var prefix: String
    /// The netfilter hook it was logged at (NFULA_PACKET_HDR: 1 input, 2 forward, 3 output), 0 if absent.
    public var hook: UInt8
    /// The packet's flow, nil when the copied payload is not an IPv4 packet.
    public var flow: PacketFlow?

    public var description: String { "group \(group) hook \(hook) \"\(prefix)\" \(flow?.description ?? "non-IPv4")" }
}
