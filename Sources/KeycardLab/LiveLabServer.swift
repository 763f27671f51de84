import Foundation
import Glibc
import KeycardKernel

/// The lab process: the background `keycard serve LAB` that serves a live lab's ports after the
/// command that brought the lab up has exited. Its pid and start time are kept in the lab's state,
/// so `Lab.down` stops it (and never a later process that reused the pid).
public enum LiveLabServer {
    /// /run/keycard/<lab>/server.log: the lab process's stdout and stderr.
    public static func logPath(_ lab: String) -> String { "\(LabPaths.directory(lab))/server.log" }

    /// Starts `executable arguments...` (an absolute path) detached through `ProcessSpawner`: a
    /// session of its own (no terminal signal reaches it), stdout and stderr appended to the lab's
    /// server.log. Returns its pid.
    public static func spawn(lab: String, executable: String, arguments: [String]) throws(LabError) -> pid_t {
        do {
            return try ProcessSpawner.spawn([executable] + arguments, logPath: logPath(lab), detachment: .session, label: executable)
        } catch {
            throw .kernel(lab: lab, stage: "start the lab process", error)
        }
    }

    /// Records `pid` (this process, normally) as the lab's server in its state file.
    public static func record(lab: String, pid: pid_t, argv: [String]) throws(LabError) {
        guard var state = try LabState.read(lab) else {
            throw .state(lab: lab, path: LabPaths.stateFile(lab), reason: "missing: is the lab up?")
        }
        state.server = LabProcess(
            pod: "", netns: "", pid: pid, startTime: ProcessTable.startTime(of: pid), argv: argv, logPath: logPath(lab))
        try state.write()
        try? FileManager.default.removeItem(atPath: pendingPath(lab))
    }

    /// True when `process` still runs and is the process that was recorded (same start time).
    public static func isAlive(_ process: LabProcess) -> Bool {
        guard !ProcessTable.hasExited(process.pid) else { return false }
        guard let recorded = process.startTime else { return true }
        return ProcessTable.startTime(of: process.pid) == recorded
    }

    /// /run/keycard/<lab>/server.pending: the pid of a lab process started to take over once its
    /// parent (`keycard run --keep`) exits, until it records itself.
    public static func pendingPath(_ lab: String) -> String { "\(LabPaths.directory(lab))/server.pending" }

    /// Notes that lab process `pid` will serve the lab's ports once it is ready.
    public static func markPending(lab: String, pid: pid_t) {
        try? "\(pid)\n".write(toFile: pendingPath(lab), atomically: true, encoding: .utf8)
    }

    /// Waits (as `waitUntilReady`) for a lab process `markPending` named that has not recorded
    /// itself yet and still runs: a live verb right after `keycard run --keep` would otherwise
    /// find the programs' ports closed while the lab process takes them over. Returns at once
    /// when none is pending.
    public static func awaitPending(lab: String) throws(LabError) {
        guard let text = try? String(contentsOfFile: pendingPath(lab), encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        if let state = try? LabState.read(lab), state.server?.pid == pid { return }
        guard !ProcessTable.hasExited(pid) else { return }
        try waitUntilReady(lab: lab, pid: pid)
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
