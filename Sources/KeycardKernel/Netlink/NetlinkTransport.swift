import Glibc

/// The answer the kernel gave to one acknowledged message: its sequence number, the errno
/// (0 for success, positive otherwise) and, when the socket asked for extended acks, the kernel's
/// one-line reason (NLMSGERR_ATTR_MSG).
public struct NetlinkAck: Sendable, Hashable {
    public var sequence: UInt32
    public var errno: Int32
    public var reason: String?

    public init(sequence: UInt32, errno: Int32 = 0, reason: String? = nil) {
        self.sequence = sequence
        self.errno = errno
        self.reason = reason
    }
}

/// What one exchange got back: an ack (or nil, never answered) per expected sequence number, in
/// the order they were expected, and where the time went.
public struct NetlinkReply: Sendable, Hashable {
    public var acks: [NetlinkAck?]
    /// Whole messages other than acks that carried an expected sequence number, in the order
    /// received: what a GET request is answered with (ctnetlink's entry), before its ack.
    public var answers: [[UInt8]]
    /// The sendmsg call: the kernel handles every message inside it.
    public var sendSeconds: Double
    /// Reading and matching the acknowledgements.
    public var ackSeconds: Double

    public init(acks: [NetlinkAck?], answers: [[UInt8]] = [], sendSeconds: Double = 0, ackSeconds: Double = 0) {
        self.acks = acks
        self.answers = answers
        self.sendSeconds = sendSeconds
        self.ackSeconds = ackSeconds
    }

    /// The first failed ack in expected order, with its position.
    public var firstFailure: (index: Int, ack: NetlinkAck)? {
        for (index, ack) in acks.enumerated() {
            if let ack, ack.errno != 0 { return (index, ack) }
        }
        return nil
    }

    /// How many expected sequence numbers were never answered.
    public var missing: Int { acks.lazy.filter { $0 == nil }.count }
}

/// The one seam between keycard and a netlink socket: send one datagram of whole netlink
/// messages (each built with NLM_F_ACK) and collect the acknowledgement of each expected
/// sequence number. `NetlinkSocket` is the real one, opened inside a lab namespace;
/// `RecordingNetlinkTransport` keeps the bytes for golden tests and answers as scripted.
///
/// Every keycard request goes through it: links, addresses and routes (built by libnl-route),
/// nftables transactions (libnftnl), the conntrack flush and the NFLOG group binding.
public protocol NetlinkTransport: AnyObject {
    /// A label for errors: the namespace the socket lives in.
    var label: String { get }

    /// Sends `datagram` in one sendmsg and returns the acks of `expecting`, in that order.
    /// Throws only when the socket itself fails (send or receive), never for a negative ack:
    /// the caller names the message that failed.
    func exchange(_ datagram: UnsafeRawBufferPointer, expecting: [UInt32]) throws(KernelError) -> NetlinkReply
}

extension NetlinkTransport {
    /// `exchange` of a byte array.
    public func exchange(_ datagram: [UInt8], expecting: [UInt32]) throws(KernelError) -> NetlinkReply {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out by hand.
        var failure: KernelError?
        let reply = datagram.withUnsafeBytes { bytes -> NetlinkReply? in
            do throws(KernelError) {
                return try exchange(bytes, expecting: expecting)
            } catch {
                failure = error
                return nil
            }
        }
        guard let reply else { throw failure ?? KernelError("netlink exchange", subject: label, errno: EIO) }
        return reply
    }
}
