import Foundation
import KeycardKernel

/// /run/keycard/<lab>/change.json: written by the process that makes a live change (`keycard
/// apply|delete|label`, or the lab process for them) before it programs the change (the lab
/// process, holding the lab's lock from receipt, may first reload the record's own cluster,
/// which rewrites only what the record holds), removed once the change
/// is in the record, or, by a lab process, once it refused the change before touching the kernel. A marker left behind means a change stopped half-way (`kill -9`,
/// a failure after the kernel was touched): some namespaces may hold the new tables, others the
/// old, while the record holds the old cluster. The readers (`probe`, `scan`, `observe`, `status`)
/// say so instead of judging that kernel against the record, and the next change, which finds
/// it, reprograms every table of the lab whole from the record (never a diff from what the
/// record only assumes) and removes it.
public struct LiveChangeMarker: Codable, Sendable, Hashable {
    /// The process making the change, and its start time (/proc/PID/stat), which tells it from a
    /// later process that reused the pid.
    public var pid: Int32
    public var startTime: UInt64?
    /// Set by a writer that stays alive (the lab process) when its change failed after the marker
    /// was written: the change is over, half-made, though its process runs on.
    public var failed: Bool? = nil

    public static func path(_ lab: String) -> String { "\(LabPaths.directory(lab))/change.json" }

    /// Marks a change by this process as begun (atomically written, so a reader never finds half a file).
    public static func begin(lab: String) throws(LabError) {
        let marker = LiveChangeMarker(pid: ProcessTable.currentPID, startTime: ProcessTable.startTime(of: ProcessTable.currentPID))
        let path = path(lab)
        do {
            try JSONEncoder().encode(marker).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .state(lab: lab, path: path, reason: "cannot write: \(error)")
        }
    }

    /// Marks this process's change as failed half-way (its marker stays, now saying so), for a
    /// writer that lives on: readers must not wait for it to finish.
    public static func fail(lab: String) {
        guard var marker = read(lab), marker.pid == ProcessTable.currentPID else { return }
        marker.failed = true
        try? JSONEncoder().encode(marker).write(to: URL(fileURLWithPath: path(lab)), options: .atomic)
    }

    /// Marks the lab's change as finished: the record holds what the kernel does.
    public static func end(lab: String) {
        try? FileManager.default.removeItem(atPath: path(lab))
    }

    /// The lab's marker, nil when no change is under way or left half-made. A marker that cannot
    /// be read (never half-written, but damaged) names no process.
    public static func read(_ lab: String) -> LiveChangeMarker? {
        guard let data = FileManager.default.contents(atPath: path(lab)) else { return nil }
        return (try? JSONDecoder().decode(LiveChangeMarker.self, from: data)) ?? LiveChangeMarker(pid: 0, startTime: nil)
    }

    /// True while the process that wrote the marker still runs (its change may still be under way).
    public var writerIsAlive: Bool {
        guard pid > 0, !ProcessTable.hasExited(pid) else { return false }
        return startTime == nil || ProcessTable.startTime(of: pid) == startTime
    }

    /// The marker of a change whose process is gone without finishing it, nil otherwise (no
    /// marker, or its change is still being made). For a reader that does not hold the lab's lock.
    public static func interrupted(_ lab: String) -> LiveChangeMarker? {
        guard let marker = read(lab), marker.failed == true || !marker.writerIsAlive else { return nil }
        return marker
    }

    /// For a reader holding the lab's lock: the marker once no change is under way, waiting (up to
    /// `seconds`, polled every 50 ms) while its writer still makes it. The lab process may still
    /// be programming a change whose verb was killed and let go of the lock; the reader waits for
    /// it rather than calling it interrupted. A marker still held after `seconds` is returned.
    public static func settled(_ lab: String, waitingUpTo seconds: Double) -> LiveChangeMarker? {
        // The monotonic clock: a step of the wall clock neither ends nor stretches the wait.
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while let marker = read(lab), marker.failed != true, marker.writerIsAlive, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        return read(lab)
    }

    /// What the readers say about a change left half-made.
    public static func message(_ lab: String) -> String {
        "a change to lab \(lab) was interrupted: apply it again or keycard down \(lab)"
    }
}
