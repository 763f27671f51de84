import CLinuxShim
import Glibc

/// Named network namespaces as iproute2 keeps them: a bind mount of the namespace on /run/netns/NAME.
///
/// Namespace entry is per thread (`setns`), so work inside a namespace is a synchronous closure run
/// on the calling thread between enter and restore, never across an `await`. Sockets (netlink ones
/// included) created inside stay bound to the namespace after the thread leaves.
public enum NetworkNamespace {
    public static let directory = "/run/netns"

    /// `/run/netns/<name>`, where iproute2's convention (and keycard) bind-mount a named namespace.
    public static func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Names under /run/netns, sorted.
    public static func list() -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether `/run/netns/<name>` exists (a leftover mount counts).
    public static func exists(_ name: String) -> Bool { access(path(name), F_OK) == 0 }

    /// Creates /run/netns/NAME holding a new, empty network namespace (loopback down).
    public static func create(_ name: String) throws(KernelError) {
        try prepareDirectory()
        let target = path(name)
        let fd = try syscall("create", target) { open(target, O_RDONLY | O_CREAT | O_EXCL, 0o444) }
        Glibc.close(fd)
        do {
            try onFreshThreadInNewNamespace(target)
        } catch {
            unlink(target)
            throw error
        }
    }

    /// Unmounts and removes /run/netns/NAME; the namespace dies with its last user.
    public static func delete(_ name: String) throws(KernelError) {
        let target = path(name)
        if umount2(target, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            throw KernelError("umount", subject: target, errno: errno)
        }
        if unlink(target) != 0 && errno != ENOENT {
            throw KernelError("unlink", subject: target, errno: errno)
        }
    }

    /// Runs `body` on the calling thread inside namespace NAME, then returns the thread to where it was.
    public static func perform<T>(in name: String, _ body: () throws -> T) throws -> T {
        let target = try syscall("open", path(name)) { open(path(name), O_RDONLY | O_CLOEXEC) }
        defer { Glibc.close(target) }
        return try perform(inNamespaceFD: target, body)
    }

    /// Runs `body` inside the namespace open as `fd`, restoring the thread's own namespace after.
    public static func perform<T>(inNamespaceFD fd: Int32, _ body: () throws -> T) throws -> T {
        let original = try syscall("open", "/proc/thread-self/ns/net") {
            open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        }
        defer { Glibc.close(original) }
        try syscall("setns", "enter") { kc_setns(fd, kc_clone_newnet()) }
        defer {
            // Failing to return would leave this thread (and whatever runs on it next) in a lab
            // namespace: that must never be survived silently.
            if kc_setns(original, kc_clone_newnet()) != 0 {
                fatalError("setns back to the original network namespace failed: errno \(errno)")
            }
        }
        return try body()
    }

    /// The inode of the network namespace the calling thread is in.
    public static func currentInode() -> UInt64 {
        var st = stat()
        guard stat("/proc/thread-self/ns/net", &st) == 0 else { return 0 }
        return UInt64(st.st_ino)
    }

    /// The inode of the namespace this process's main thread is in (`/proc/self/ns/net`): where
    /// keycard starts, outside every lab namespace. Readable where PID 1's is not (a sandbox's
    /// init may refuse `stat` of its namespace file).
    public static func processInode() -> UInt64 {
        var st = stat()
        guard stat("/proc/self/ns/net", &st) == 0 else { return 0 }
        return UInt64(st.st_ino)
    }

    /// The inode of the host's namespace: the one PID 1 lives in.
    public static func hostInode() -> UInt64 {
        var st = stat()
        guard stat("/proc/1/ns/net", &st) == 0 else { return 0 }
        return UInt64(st.st_ino)
    }

    /// The inode of the namespace mounted on /run/netns/NAME.
    public static func inode(of name: String) -> UInt64? {
        var st = stat()
        guard stat(path(name), &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// The inode of the network namespace the socket `fd` was created in (ioctl SIOCGSKNS).
    public static func inode(ofSocket fd: Int32) throws(KernelError) -> UInt64 {
        let nsfd = try syscall("ioctl SIOCGSKNS", "socket \(fd)") { kc_socket_netns_fd(fd) }
        defer { Glibc.close(nsfd) }
        var st = stat()
        try syscall("fstat", "netns of socket") { fstat(nsfd, &st) }
        return UInt64(st.st_ino)
    }

    private static func prepareDirectory() throws(KernelError) {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw KernelError("mkdir", subject: directory, errno: errno)
        }
        // iproute2 makes /run/netns a shared mount so that namespaces mounted later propagate.
        if mount("", directory, "none", UInt(MS_SHARED | MS_REC), nil) != 0 {
            guard errno == EINVAL else { throw KernelError("mount --make-shared", subject: directory, errno: errno) }
            try syscall("mount --bind", directory) { mount(directory, directory, "none", UInt(MS_BIND | MS_REC), nil) }
            try syscall("mount --make-shared", directory) { mount("", directory, "none", UInt(MS_SHARED | MS_REC), nil) }
        }
    }

    /// unshare() moves the thread into the new namespace for good, so it happens on a throw-away
    /// thread that then bind-mounts its namespace on `target` and exits.
    private static func onFreshThreadInNewNamespace(_ target: String) throws(KernelError) {
        final class Outcome: @unchecked Sendable { var error: KernelError? }
        let outcome = Outcome()
        let thread = OneShotThread {
            if kc_unshare(kc_clone_newnet()) != 0 {
                outcome.error = KernelError("unshare CLONE_NEWNET", subject: target, errno: errno)
                return
            }
            if mount("/proc/thread-self/ns/net", target, "none", UInt(MS_BIND), nil) != 0 {
                outcome.error = KernelError("mount --bind netns", subject: target, errno: errno)
            }
        }
        thread.join()
        if let error = outcome.error { throw error }
    }
}
