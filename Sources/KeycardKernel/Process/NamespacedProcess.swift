import CLinuxShim
import Glibc

/// Starts programs inside a network namespace: posix_spawn from a thread that has entered the
/// namespace, so the child inherits that thread's namespace (not the process's main one).
public enum NamespacedProcess {
    /// Spawns `argv` (PATH lookup for argv[0]) inside namespace `name`, stdin from /dev/null,
    /// stdout and stderr appended to `logPath`, in a process group of its own. Returns its pid.
    /// With `bindMounts`, the program also gets a mount namespace of its own in which each source
    /// file is bind-mounted over its target (as `ip netns exec` binds /etc/netns/NAME/resolv.conf);
    /// the host's mounts are untouched.
    public static func spawn(
        _ argv: [String], inNamespace name: String, logPath: String, bindMounts: [BindMount] = []
    ) throws(KernelError) -> pid_t {
        guard let program = argv.first, !program.isEmpty else {
            throw KernelError("posix_spawn", subject: "empty argv in \(name)", errno: EINVAL)
        }
        if !bindMounts.isEmpty { return try spawnWithMounts(argv, inNamespace: name, logPath: logPath, bindMounts: bindMounts) }
        do {
            return try NetworkNamespace.perform(in: name) { () throws -> pid_t in
                try spawnHere(argv, logPath: logPath, label: "\(program) in \(name)")
            }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("posix_spawn", subject: name, errno: EIO)
        }
    }

    /// A mount namespace can be entered by unshare on one thread but never left again (setns to a
    /// mount namespace refuses multi-threaded processes): a throwaway thread unshares, binds, spawns
    /// (the child inherits the thread's namespaces) and ends.
    private static func spawnWithMounts(
        _ argv: [String], inNamespace name: String, logPath: String, bindMounts: [BindMount]
    ) throws(KernelError) -> pid_t {
        nonisolated(unsafe) var result: Result<pid_t, KernelError> = .failure(KernelError("posix_spawn", subject: name, errno: EIO))
        let label = "\(argv[0]) in \(name)"
        let thread = OneShotThread {
            do {
                let pid = try NetworkNamespace.perform(in: name) { () throws -> pid_t in
                    try syscall("unshare(CLONE_NEWNS)", label) { kc_unshare(kc_clone_newns()) }
                    // Slave: nothing mounted here propagates back to the host's namespace.
                    try syscall("mount --make-rslave /", label) { mount("", "/", "none", UInt(MS_REC | MS_SLAVE), nil) }
                    for bind in bindMounts {
                        try syscall("mount --bind", "\(bind.source) on \(bind.target)") {
                            mount(bind.source, bind.target, "none", UInt(MS_BIND), nil)
                        }
                    }
                    return try spawnHere(argv, logPath: logPath, label: label)
                }
                result = .success(pid)
            } catch let error as KernelError {
                result = .failure(error)
            } catch {
                result = .failure(KernelError("posix_spawn", subject: label, errno: EIO))
            }
        }
        thread.join()
        return try result.get()
    }

    private static func spawnHere(_ argv: [String], logPath: String, label: String) throws(KernelError) -> pid_t {
        try ProcessSpawner.spawn(argv, logPath: logPath, detachment: .processGroup, label: label)
    }
}

/// A file bind-mounted over another in a spawned program's own mount namespace.
public struct BindMount: Sendable, Hashable {
    public var source: String
    public var target: String

    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }
}
