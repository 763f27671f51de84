import CNetfilter
import Glibc
import KeycardValues

/// The connection tracking table of a lab namespace.
public enum Conntrack {
    /// Forgets every tracked IPv4 connection in `namespace` (ctnetlink IPCTNL_MSG_CT_DELETE with no
    /// tuple: the table is flushed). After a policy change this makes every later probe a new
    /// connection, judged by the rules now in force, instead of a reply to a flow that an earlier
    /// policy let in (a UDP probe that reuses an old source port would otherwise pass as
    /// "established").
    public static func flush(namespace: String) throws(KernelError) {
        let socket = try MnlSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
        var message = [UInt8](repeating: 0, count: 64)
        let sequence = UInt32(truncatingIfNeeded: time(nil))
        let length = message.withUnsafeMutableBytes { raw -> Int in
            guard let header = mnl_nlmsg_put_header(raw.baseAddress) else { return 0 }
            header.pointee.nlmsg_type = UInt16(NFNL_SUBSYS_CTNETLINK << 8) | UInt16(IPCTNL_MSG_CT_DELETE.rawValue)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = sequence
            guard let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<nfgenmsg>.size) else { return 0 }
            let generic = extra.assumingMemoryBound(to: nfgenmsg.self)
            generic.pointee.nfgen_family = UInt8(AF_INET)
            generic.pointee.version = UInt8(NFNETLINK_V0)
            generic.pointee.res_id = 0
            return Int(header.pointee.nlmsg_len)
        }
        let sent = message.withUnsafeBytes { mnl_socket_sendto(socket.raw, $0.baseAddress, length) }
        if sent < 0 { throw KernelError("conntrack flush send", subject: namespace, errno: errno) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let portID = mnl_socket_get_portid(socket.raw)
        while true {
            let count = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket.raw, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KernelError("conntrack flush ack", subject: namespace, errno: errno)
            }
            let result = buffer.withUnsafeBytes { mnl_cb_run($0.baseAddress, count, sequence, portID, nil, nil) }
            if result < 0 {
                // An empty table answers ENOENT: nothing to forget.
                if errno == ENOENT { return }
                throw KernelError("conntrack flush", subject: namespace, errno: errno)
            }
            if result == MNL_CB_STOP { return }
        }
    }
}
