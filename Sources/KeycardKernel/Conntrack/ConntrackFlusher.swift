import CNetfilter
import Glibc

/// Flushes conntrack in lab namespaces over one ctnetlink socket per namespace, kept open for the
/// flusher's life. Closing a NETLINK_NETFILTER socket can wait for the kernel (measured here: up to
/// 18 ms per close), so a lab that flushes nine namespaces per scenario must not open and close a
/// socket per flush. Not thread-safe: one flusher per lab programmer. Release it before the lab's
/// namespaces are deleted: an open socket keeps its namespace alive, and a namespace re-created
/// under the same name would get a fresh socket only from a new flusher.
public final class ConntrackFlusher {
    private var sockets: [String: NetlinkSocket] = [:]
    private var sequence = UInt32(truncatingIfNeeded: time(nil))

    public init() {}

    /// `Conntrack.flush(over:sequence:)` on this flusher's socket in `namespace` (opened inside it
    /// and checked to be there on first use).
    public func flush(namespace: String) throws(KernelError) {
        let socket: NetlinkSocket
        if let open = sockets[namespace] {
            socket = open
        } else {
            socket = try NetlinkSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
            sockets[namespace] = socket
        }
        sequence &+= 1
        do {
            try Conntrack.flush(over: socket, sequence: sequence)
        } catch {
            // A socket that failed once is not trusted again: the next flush opens a new one.
            sockets[namespace] = nil
            throw error
        }
    }
}
