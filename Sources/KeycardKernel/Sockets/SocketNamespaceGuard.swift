import Glibc

/// The safety rule of every lab socket: it must live in the lab namespace it was meant for, and never in
/// the host's (which has a default route to the real network), before it connects, sends or listens.
public enum SocketNamespaceGuard {
    /// Throws (EPERM) unless socket `fd` lives in the namespace whose inode is `expectedInode`, and that
    /// namespace is not the host's (`hostInode`, the namespace of PID 1).
    public static func check(
        socket fd: Int32, expectedInode: UInt64, hostInode: UInt64 = NetworkNamespace.hostInode()
    ) throws(KernelError) {
        let actual = try NetworkNamespace.inode(ofSocket: fd)
        guard actual == expectedInode, actual != hostInode, hostInode != 0 else {
            throw KernelError(
                "refuse socket outside its lab namespace",
                subject: "socket \(fd) in netns \(actual), expected \(expectedInode), host \(hostInode)",
                errno: EPERM
            )
        }
    }
}
