import Glibc
import KeycardValues

/// The two socket options the mesh data path needs (spec mesh.md 2.8).
public enum MeshSocketOptions {
    /// `getsockopt(SOL_IP, SO_ORIGINAL_DST)` on an accepted socket: the destination the client
    /// dialled before an nftables `redirect` (conntrack's original tuple), as address and port.
    /// - Throws: `KernelError` (ENOENT when the connection was not redirected).
    public static func originalDestination(of fd: Int32) throws(KernelError) -> (address: IPv4, port: UInt16) {
        var addr = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SO_ORIGINAL_DST is 80 in <linux/netfilter_ipv4.h>, which Glibc does not import.
        let soOriginalDst: Int32 = 80
        try syscall("getsockopt", "SO_ORIGINAL_DST") {
            withUnsafeMutablePointer(to: &addr) { getsockopt(fd, Int32(SOL_IP), soOriginalDst, $0, &length) }
        }
        return (IPv4(UInt32(bigEndian: addr.sin_addr.s_addr)), UInt16(bigEndian: addr.sin_port))
    }

    /// `setsockopt(SO_MARK)`: packets of `fd` carry `mark`, which the lab's redirection lets pass
    /// (`MeshDataPath.bypassMark`). Needs CAP_NET_ADMIN.
    public static func setMark(_ fd: Int32, _ mark: UInt32 = MeshDataPath.bypassMark) throws(KernelError) {
        try SocketCalls.setOption(fd, SOL_SOCKET, SO_MARK, Int32(bitPattern: mark), "SO_MARK")
    }
}
