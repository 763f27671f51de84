import Glibc

/// Named namespaces opened once (fd + inode), for repeated setns windows; closed in `deinit`.
/// Not locked: the prober opens every handle before its waves' threads start, so they only read.
final class NamespaceHandles: @unchecked Sendable {
    struct Handle {
        let fd: Int32
        let inode: UInt64
    }

    private var handles: [String: Handle] = [:]
    /// The host's possible namespaces, taken when the handles are made (outside any window).
    let forbiddenInodes = SocketNamespaceGuard.hostInodes()

    /// Opens /run/netns/NAME on first use; its inode is taken from the open fd, which is what setns uses.
    func handle(_ name: String) throws(KernelError) -> Handle {
        if let handle = handles[name] { return handle }
        let path = NetworkNamespace.path(name)
        let fd = try syscall("open", path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let code = errno
            Glibc.close(fd)
            throw KernelError("fstat", subject: path, errno: code)
        }
        let handle = Handle(fd: fd, inode: UInt64(st.st_ino))
        handles[name] = handle
        return handle
    }

    /// Runs `body` on this thread inside namespace `name` (one setns window), keeping typed errors.
    func perform<T>(in name: String, _ body: (Handle) throws(KernelError) -> T) throws(KernelError) -> T {
        let handle = try handle(name)
        do {
            return try NetworkNamespace.perform(inNamespaceFD: handle.fd) { try body(handle) }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("perform in namespace", subject: "\(name): \(error)", errno: EIO)
        }
    }

    deinit {
        for handle in handles.values { Glibc.close(handle.fd) }
    }
}
