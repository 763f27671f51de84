import CLinuxShim
import Glibc
import KeycardValues

/// posix_spawn as keycard starts every program (lab `command:` programs, dnsmasq, the lab
/// process): no shell, stdin from /dev/null, stdout and stderr appended to a log file, only
/// descriptors 0-2 inherited (netlink and nftables sockets of keycard must not live on in a
/// program), no signal blocked and the usual ones at their defaults whatever the spawning thread
/// had (a Dispatch or test-runner thread blocks nearly every signal, and a program started from it
/// would never see SIGHUP — dnsmasq's reload — or SIGTERM).
public enum ProcessSpawner {
    /// How the child is set apart from keycard's terminal and process group.
    public enum Detachment: Sendable {
        /// A process group of its own: a Ctrl-C aimed at keycard does not reach it, and tear-down
        /// can signal the whole group.
        case processGroup
        /// A session of its own (POSIX_SPAWN_SETSID): no terminal signal reaches it at all.
        case session
    }

    /// Spawns `argv` (PATH lookup when argv[0] has no slash) in the calling thread's namespaces and
    /// returns its pid. `environment` (`NAME=value`) is added to keycard's own environment, a name
    /// given there replacing keycard's. Errors: `KernelError` with posix_spawnp's error number,
    /// labelled `label`.
    public static func spawn(
        _ argv: [String], logPath: String, detachment: Detachment, label: String, environment: [String] = []
    ) throws(KernelError) -> pid_t {
        guard let program = argv.first, !program.isEmpty else { throw KernelError("posix_spawnp", subject: label, errno: EINVAL) }
        if let long = tooLong(argv, environment: environment) {
            throw KernelError("posix_spawnp", subject: "\(label): \(long)", errno: E2BIG)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // O_NOFOLLOW: a link planted at the log's path is not followed to a file outside the lab.
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = kc_posix_spawn_file_actions_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        switch detachment {
        case .processGroup:
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        case .session:
            flags |= kc_posix_spawn_setsid_flag()
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        guard !environment.isEmpty else {
            let rc = posix_spawnp(&pid, program, &actions, &attributes, cArguments, environ)
            if rc != 0 { throw KernelError("posix_spawnp", subject: label, errno: rc) }
            return pid
        }
        // keycard's own environment (PATH and the like), a name given in `environment` replacing it.
        let given = Set(environment.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        var inherited: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !given.contains(text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text) { inherited.append(text) }
            entry += 1
        }
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = (inherited + environment).map { strdup($0) }
        cEnvironment.append(nil)
        defer { for pointer in cEnvironment { free(pointer) } }
        let rc = posix_spawnp(&pid, program, &actions, &attributes, cArguments, cEnvironment)
        if rc != 0 { throw KernelError("posix_spawnp", subject: label, errno: rc) }
        return pid
    }

    /// The first environment entry (by name), then argument (by position, from 0), that execve
    /// would refuse as longer than `ExecLimits.maximumStringBytes`, said for the E2BIG message;
    /// nil when all fit. The kernel's own error names none of them.
    static func tooLong(_ argv: [String], environment: [String]) -> String? {
        let limit = "longer than \(ExecLimits.maximumStringBytes - 1) bytes (MAX_ARG_STRLEN)"
        if let entry = environment.first(where: { !ExecLimits.fits($0) }) {
            return "environment variable \(entry.prefix { $0 != "=" }) is \(limit)"
        }
        if let index = argv.firstIndex(where: { !ExecLimits.fits($0) }) { return "argument \(index) is \(limit)" }
        return nil
    }
}
