import Foundation
import Glibc

/// The lab's change lock, a flock on /run/keycard/<lab>/live.lock. Whoever changes the lab live
/// takes it exclusive for the whole change, from receiving it to the record written: the verb
/// that makes the change itself, or the lab process for a change handed to it (it holds the lock
/// itself, so a verb killed while it waits lets go of nothing the change needs). The readers
/// (`probe`, `scan`) and `keycard down` take it shared: they wait for a change in progress and
/// never for each other.
public struct LabChangeLock: Sendable {
    /// exclusive (`LOCK_EX`) for a change, shared (`LOCK_SH`) for a reader or a tear-down.
    public enum Mode: Sendable {
        case exclusive, shared

        var operation: Int32 { self == .exclusive ? LOCK_EX : LOCK_SH }
    }

    /// What a wait for the lock came to.
    public enum Outcome: Sendable {
        /// Taken: held until `release()` (or the process ends, which closes the descriptor).
        case locked(LabChangeLock)
        /// Another process still held it when the wait ended (its deadline passed, or `giveUp`).
        case busy
        /// The lab's folder is gone (never there, or removed while this process waited).
        case gone
    }

    private let fd: Int32

    /// /run/keycard/<lab>/live.lock.
    public static func path(_ lab: String) -> String { "\(LabPaths.directory(lab))/live.lock" }

    /// Takes the lock, polling every 20 ms until `deadline` (nil: no deadline) or until `giveUp`
    /// says to stop. Never creates the lab's folder: a lab whose folder is gone is `.gone`, and a
    /// lock taken on a file that no longer is the lab's (the lab was removed, and maybe brought up
    /// again, while this process waited) is let go and taken again on the lab's file, if any.
    public static func take(
        _ lab: String, mode: Mode, until deadline: ContinuousClock.Instant? = nil, giveUp: () -> Bool = { false }
    ) -> Outcome {
        while true {
            guard FileManager.default.fileExists(atPath: LabPaths.directory(lab)) else { return .gone }
            let fd = open(path(lab), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { return .gone }
            while flock(fd, mode.operation | LOCK_NB) != 0 {
                if errno == EINTR { continue }
                if let deadline, ContinuousClock.now >= deadline {
                    close(fd)
                    return .busy
                }
                if giveUp() {
                    close(fd)
                    return .busy
                }
                usleep(20_000)
            }
            if isStillLabFile(fd, lab) { return .locked(LabChangeLock(fd: fd)) }
            close(fd)
        }
    }

    /// Whether the lab's lock file is still the file `fd` names (same device and inode).
    private static func isStillLabFile(_ fd: Int32, _ lab: String) -> Bool {
        var held = stat()
        var named = stat()
        guard fstat(fd, &held) == 0, lstat(path(lab), &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }

    /// Lets the lock go.
    public func release() { close(fd) }
}
