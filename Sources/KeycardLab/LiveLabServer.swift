import CLinuxShim
import Foundation
import Glibc
import KeycardKernel

/// The lab process: the background `keycard serve LAB` that serves a live lab's ports after the
/// command that brought the lab up has exited. Its pid and start time are kept in the lab's state,
/// so `Lab.down` stops it (and never a later process that reused the pid).
public enum LiveLabServer {
    /// /run/keycard/<lab>/server.log: the lab process's stdout and stderr.
    public static func logPath(_ lab: String) -> String { "\(LabPaths.directory(lab))/server.log" }

    /// Starts `executable arguments...` detached: posix_spawn (no shell, no PATH lookup), a session of
    /// its own (POSIX_SPAWN_SETSID: no terminal signal reaches it), stdin /dev/null, stdout and
    /// stderr appended to the lab's server.log, and only descriptors 0-2 inherited. Returns its pid.
    public static func spawn(lab: String, executable: String, arguments: [String]) throws(LabError) -> pid_t {
        let log = logPath(lab)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Netlink and nftables sockets of the parent must not live on in the lab process.
        _ = kc_posix_spawn_file_actions_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        _ = kc_posix_spawnattr_setsid(&attributes)
        let argv = [executable] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, cArguments, environ)
        if rc != 0 {
            throw .kernel(lab: lab, stage: "start the lab process", KernelError("posix_spawn", subject: executable, errno: rc))
        }
        return pid
    }

    /// Records `pid` (this process, normally) as the lab's server in its state file.
    public static func record(lab: String, pid: pid_t, argv: [String]) throws(LabError) {
        guard var state = try LabState.read(lab) else {
            throw .state(lab: lab, path: LabPaths.stateFile(lab), reason: "missing: is the lab up?")
        }
        state.server = LabProcess(
            pod: "", netns: "", pid: pid, startTime: ProcessTable.startTime(of: pid), argv: argv, logPath: logPath(lab))
        try state.write()
    }

    /// True when `process` still runs and is the process that was recorded (same start time).
    public static func isAlive(_ process: LabProcess) -> Bool {
        guard !ProcessTable.hasExited(process.pid) else { return false }
        guard let recorded = process.startTime else { return true }
        return ProcessTable.startTime(of: process.pid) == recorded
    }

    /// Waits until the lab process `pid` has recorded itself in the state (its ports are open), it
    /// exits, or `timeout` passes. Throws with the end of server.log when it does not get ready.
    public static func waitUntilReady(lab: String, pid: pid_t, timeout: Duration = .seconds(20)) throws(LabError) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let state = try? LabState.read(lab), state.server?.pid == pid { return }
            if ProcessTable.hasExited(pid) { break }
            Sleep.milliseconds(10)
        }
        let tail =
            (try? String(contentsOfFile: logPath(lab), encoding: .utf8))?
            .split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
        throw .state(
            lab: lab, path: logPath(lab),
            reason: "the lab process (pid \(pid)) did not get ready" + (tail.isEmpty ? "" : ":\n\(tail)"))
    }
}
