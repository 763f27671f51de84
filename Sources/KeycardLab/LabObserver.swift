import Foundation
import Glibc
import KeycardKernel

/// /run/keycard/<lab>/observers/<pid>: one file per running `keycard observe LAB`, written by
/// observe itself before it opens a socket in the lab's namespaces and removed when it ends. It
/// holds the process's pid and start time (/proc/PID/stat), so `Lab.down` finds every observer of
/// the lab however its command line was written (`-vo json`, a renamed or symlinked binary) and
/// never signals a later process that reused the pid of one killed without removing its file.
public struct LabObserver: Codable, Sendable, Hashable {
    public var pid: Int32
    public var startTime: UInt64?

    /// The folder of lab `lab`'s observer files.
    public static func directory(_ lab: String) -> String { "\(LabPaths.directory(lab))/observers" }

    /// This process's file under lab `lab`.
    static func path(_ lab: String, pid: Int32) -> String { "\(directory(lab))/\(pid)" }

    /// Registers this process as an observer of lab `lab` (the lab's folder must exist: the lab
    /// is up). Returns the file written, for `unregister`.
    public static func register(lab: String) throws(LabError) -> String {
        let pid = ProcessTable.currentPID
        let path = path(lab, pid: pid)
        // Never the lab's folder itself: a lab taken down meanwhile gets no new folder.
        if mkdir(directory(lab), 0o755) != 0 && errno != EEXIST {
            throw .state(lab: lab, path: directory(lab), reason: "cannot create: errno \(errno)")
        }
        let observer = LabObserver(pid: pid, startTime: ProcessTable.startTime(of: pid))
        do {
            try JSONEncoder().encode(observer).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .state(lab: lab, path: path, reason: "cannot write: \(error)")
        }
        return path
    }

    /// Removes the file `register` wrote (gone already when `keycard down` removed the lab).
    public static func unregister(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The pids of lab `lab`'s registered observers that still run as the process that wrote
    /// the file (same start time); a file whose process is gone is ignored.
    public static func running(_ lab: String) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory(lab))) ?? []
        return names.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "\(directory(lab))/\(name)"),
                let observer = try? JSONDecoder().decode(LabObserver.self, from: data), observer.pid == pid,
                !ProcessTable.hasExited(pid), let startTime = observer.startTime, ProcessTable.startTime(of: pid) == startTime
            else { return nil }
            return pid
        }.sorted()
    }
}
