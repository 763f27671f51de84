import Glibc

/// What /proc says about processes: their network namespace, their start time, and stopping them.
public enum ProcessTable {
    /// This process's pid.
    public static var currentPID: Int32 { getpid() }

    /// Pids whose network namespace (/proc/PID/ns/net inode) is one of `inodes`, never our own.
    public static func pids(inNamespaceInodes inodes: Set<UInt64>) -> [pid_t] {
        guard !inodes.isEmpty else { return [] }
        return pids { pid in namespaceInode(of: pid).map(inodes.contains) ?? false }
    }

    /// Pids whose command line is `programName` (argv[0]'s last path component) followed by
    /// exactly `arguments` first (`keycard serve LAB ...`), never our own.
    public static func pids(runningArguments arguments: [String], programName: String) -> [pid_t] {
        pids { pid in
            guard let argv = commandLine(of: pid), argv.count > arguments.count else { return false }
            return argv[0].split(separator: "/").last.map(String.init) == programName && Array(argv[1...arguments.count]) == arguments
        }
    }

    /// Pids whose command line is `programName` (argv[0]'s last path component) with arguments
    /// that `matches` (argv without argv[0]), never our own.
    public static func pids(programName: String, arguments matches: ([String]) -> Bool) -> [pid_t] {
        pids { pid in
            guard let argv = commandLine(of: pid), let first = argv.first else { return false }
            return first.split(separator: "/").last.map(String.init) == programName && matches(Array(argv.dropFirst()))
        }
    }

    /// Every process's pid in /proc (never our own) that `matches`, ascending.
    private static func pids(where matches: (pid_t) -> Bool) -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        let me = getpid()
        var found: [pid_t] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let pid = pid_t(name), pid != me, matches(pid) { found.append(pid) }
        }
        return found.sorted()
    }

    /// /proc/PID/cmdline split at its NUL bytes; nil when the process is gone or has none (a
    /// kernel thread, a zombie).
    public static func commandLine(of pid: pid_t) -> [String]? {
        guard let text = readSmallFile("/proc/\(pid)/cmdline"), !text.isEmpty else { return nil }
        let fields = text.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        return text.hasSuffix("\0") ? Array(fields.dropLast()) : fields
    }

    /// The inode of /proc/PID/ns/net; nil when the process is gone (or a zombie).
    public static func namespaceInode(of pid: pid_t) -> UInt64? {
        var st = stat()
        guard stat("/proc/\(pid)/ns/net", &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names
    /// one process for good, so a recorded pid reused by another program is never signalled.
    public static func startTime(of pid: pid_t) -> UInt64? {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// True when the process no longer runs (gone, or a zombie; our own zombies are reaped).
    public static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return true }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return true }
        return text[text.index(after: close)...].dropFirst().first == "Z"
    }

    /// SIGTERM, up to `grace` seconds to exit, then SIGKILL. Returns the pids that had to be killed.
    @discardableResult
    public static func stop(_ pids: [pid_t], grace: Double = 0.5) -> [pid_t] {
        let live = pids.filter { $0 > 1 && $0 != getpid() && !hasExited($0) }
        for pid in live { kill(pid, SIGTERM) }
        var waiting = live
        let deadline = monotonicSeconds() + grace
        while !waiting.isEmpty && monotonicSeconds() < deadline {
            waiting.removeAll(where: hasExited)
            if !waiting.isEmpty { usleep(5_000) }
        }
        for pid in waiting { kill(pid, SIGKILL) }
        let killDeadline = monotonicSeconds() + 2
        var unreaped = waiting
        while !unreaped.isEmpty && monotonicSeconds() < killDeadline {
            unreaped.removeAll(where: hasExited)
            if !unreaped.isEmpty { usleep(2_000) }
        }
        return waiting
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
