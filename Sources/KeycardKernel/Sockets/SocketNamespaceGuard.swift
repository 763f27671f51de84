import Glibc

/// The safety rule of every lab socket: it must live in the lab namespace it was meant for, and never in
/// the host's (which has a default route to the real network), before it connects, sends or listens.
public enum SocketNamespaceGuard {
    /// Throws (EPERM) unless socket `fd` lives in the namespace whose inode is `expectedInode` and that
    /// inode is not one of `forbiddenInodes` (by default `hostInodes()`); an empty set refuses too.
    public static func check(
        socket fd: Int32, expectedInode: UInt64, forbiddenInodes: Set<UInt64> = hostInodes()
    ) throws(KernelError) {
        let actual = try NetworkNamespace.inode(ofSocket: fd)
        guard actual == expectedInode, !forbiddenInodes.contains(actual), !forbiddenInodes.isEmpty else {
            throw KernelError(
                "refuse socket outside its lab namespace",
                subject: "socket \(fd) in netns \(actual), expected \(expectedInode), forbidden \(forbiddenInodes.sorted())",
                errno: EPERM
            )
        }
    }

    /// Every inode that may be the host's namespace: PID 1's (unreadable in some sandboxes, then
    /// skipped), this process's main thread's, and the calling thread's. Call it outside any namespace
    /// window, from the thread that will run the probes.
    public static func hostInodes() -> Set<UInt64> {
        var inodes: Set<UInt64> = [NetworkNamespace.hostInode(), NetworkNamespace.currentInode()]
        var st = stat()
        if stat("/proc/self/ns/net", &st) == 0 { inodes.insert(UInt64(st.st_ino)) }
        inodes.remove(0)
        return inodes
    }
}
