import CLinuxShim
import Glibc

/// Starts programs inside a network namespace: posix_spawn from a thread that has entered the
/// namespace, so the child inherits that thread's namespace (not the process's main one).
public enum NamespacedProcess {
    /// Spawns `argv` (PATH lookup for argv[0]) inside namespace `name`, stdin from /dev/null,
    /// stdout and stderr appended to `logPath`, in a process group of its own. Returns its pid.
    /// With `bindMounts`, the program also gets a mount namespace of its own in which each source
    /// file is bind-mounted over its target (as `ip netns exec` binds /etc/netns/NAME/resolv.conf);
    /// the host's mounts are untouched. With `hostname`, it gets a UTS namespace of its own with
    /// that host name (a pod's containers see the pod's). `environment` (`NAME=value`) is added to
    /// keycard's own, a name given there replacing keycard's.
    public static func spawn(
        _ argv: [String], inNamespace name: String, logPath: String, bindMounts: [BindMount] = [], environment: [String] = [],
        hostname: String? = nil
    ) throws(KernelError) -> pid_t {
        guard let program = argv.first, !program.isEmpty else {
            throw KernelError("posix_spawn", subject: "empty argv in \(name)", errno: EINVAL)
        }
        let process = Spawned(argv: argv, logPath: logPath, environment: environment, label: "\(program) in \(name)")
        if !bindMounts.isEmpty || hostname != nil {
            return try spawnIsolated(process, inNamespace: name, bindMounts: bindMounts, hostname: hostname)
        }
        do {
            return try NetworkNamespace.perform(in: name) { () throws -> pid_t in try process.spawnHere() }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("posix_spawn", subject: name, errno: EIO)
        }
    }

    /// A mount or UTS namespace can be entered by unshare on one thread but never left again
    /// (setns to a mount namespace refuses multi-threaded processes): a throwaway thread unshares,
    /// binds, names its host, spawns (the child inherits the thread's namespaces) and ends.
    private static func spawnIsolated(
        _ process: Spawned, inNamespace name: String, bindMounts: [BindMount], hostname: String?
    ) throws(KernelError) -> pid_t {
        nonisolated(unsafe) var result: Result<pid_t, KernelError> = .failure(KernelError("posix_spawn", subject: name, errno: EIO))
        let label = process.label
        let thread = OneShotThread {
            do {
                let pid = try NetworkNamespace.perform(in: name) { () throws -> pid_t in
                    if !bindMounts.isEmpty {
                        try syscall("unshare(CLONE_NEWNS)", label) { kc_unshare(kc_clone_newns()) }
                        // Slave: nothing mounted here propagates back to the host's namespace.
                        try syscall("mount --make-rslave /", label) { mount("", "/", "none", UInt(MS_REC | MS_SLAVE), nil) }
                        for bind in bindMounts {
                            try syscall("mount --bind", "\(bind.source) on \(bind.target)") {
                                mount(bind.source, bind.target, "none", UInt(MS_BIND), nil)
                            }
                        }
                    }
                    if let hostname {
                        try syscall("unshare(CLONE_NEWUTS)", label) { kc_unshare(kc_clone_newuts()) }
                        try syscall("sethostname", "\(hostname) for \(label)") { sethostname(hostname, hostname.utf8.count) }
                    }
                    return try process.spawnHere()
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

    /// What one spawn needs once the thread is in place.
    private struct Spawned: Sendable {
        var argv: [String]
        var logPath: String
        var environment: [String]
        var label: String

        func spawnHere() throws(KernelError) -> pid_t {
            try ProcessSpawner.spawn(argv, logPath: logPath, detachment: .processGroup, label: label, environment: environment)
        }
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
