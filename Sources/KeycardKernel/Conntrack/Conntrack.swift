import CNetfilter
import Glibc
import KeycardValues

/// The connection tracking table of a lab namespace.
public enum Conntrack {
    /// Forgets every tracked IPv4 connection behind `transport` (ctnetlink IPCTNL_MSG_CT_DELETE with
    /// no tuple: the table is flushed). After a policy change this makes every later probe a new
    /// connection, judged by the rules now in force, instead of a reply to a flow that an earlier
    /// policy let in (a UDP probe that reuses an old source port would otherwise pass as
    /// "established"). Checks the ack; an empty table answers ENOENT, which is success. Lab code
    /// flushes through `ConntrackFlusher`, which keeps one socket per namespace.
    public static func flush(over transport: any NetlinkTransport, sequence: UInt32) throws(KernelError) {
        let reply = try transport.exchange(flushRequest(sequence: sequence), expecting: [sequence])
        guard let ack = reply.acks.first ?? nil else {
            throw KernelError("conntrack flush: no ack", subject: transport.label, errno: EPROTO)
        }
        if ack.errno != 0 && ack.errno != ENOENT {
            throw KernelError("conntrack flush", subject: transport.label, errno: ack.errno)
        }
    }

    /// The ctnetlink flush message: nlmsghdr (IPCTNL_MSG_CT_DELETE in subsystem
    /// NFNL_SUBSYS_CTNETLINK, REQUEST|ACK) and an nfgenmsg for AF_INET; 20 bytes.
    public static func flushRequest(sequence: UInt32) -> [UInt8] {
        message(IPCTNL_MSG_CT_DELETE, sequence: sequence, capacity: 64) { _ in }
    }

    /// One ctnetlink message of `type` (REQUEST|ACK, nfgenmsg for AF_INET, version 0) whose
    /// attributes `attributes` adds after the headers, in a buffer of `capacity` bytes.
    static func message(
        _ type: cntl_msg_types, sequence: UInt32, capacity: Int, attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: capacity)
        let length = message.withUnsafeMutableBytes { raw -> Int in
            guard let header = mnl_nlmsg_put_header(raw.baseAddress) else { return 0 }
            header.pointee.nlmsg_type = UInt16(NFNL_SUBSYS_CTNETLINK << 8) | UInt16(type.rawValue)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = sequence
            guard let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<nfgenmsg>.size) else { return 0 }
            let generic = extra.assumingMemoryBound(to: nfgenmsg.self)
            generic.pointee.nfgen_family = UInt8(AF_INET)
            generic.pointee.version = UInt8(NFNETLINK_V0)
            generic.pointee.res_id = 0
            attributes(header)
            return Int(header.pointee.nlmsg_len)
        }
        return Array(message.prefix(length))
    }
}
