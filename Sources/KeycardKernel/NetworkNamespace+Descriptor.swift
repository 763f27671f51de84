import Glibc

extension NetworkNamespace {
    /// Opens /run/netns/`name` (for IFLA_NET_NS_FD or setns); the descriptor closes with its owner.
    public static func openDescriptor(_ name: String) throws(KernelError) -> OwnedDescriptor {
        let target = path(name)
        return OwnedDescriptor(try syscall("open", target) { open(target, O_RDONLY | O_CLOEXEC) })
    }
}
