import Foundation
import KeycardKernel
import KeycardTopology

/// What a lab's owner must remember to find and remove everything later, kept at
/// /run/keycard/<lab>/state.json. Written before the first namespace exists, updated after.
public struct LabState: Codable, Sendable, Hashable {
    public enum Phase: String, Codable, Sendable { case creating, ready }
    public var version: Int = 1
    public var labName: String
    public var phase: Phase
    /// The pid of the keycard process that brought the lab up (`run`, `up`), and its start time
    /// (/proc/PID/stat), which tells it from a later process that reused the pid (nil in states
    /// written before it was kept).
    public var ownerPID: Int32
    public var ownerStartTime: UInt64? = nil
    public var plan: LabPlan
    public var processes: [LabProcess]
    /// The lab process serving its ports (`keycard serve`), once it has started; stopped by `down`.
    public var server: LabProcess?
}

extension LabState {
    /// The owner while it still runs (a `keycard run` or `up` in progress), never this process;
    /// nil once it has exited, or when its start time was not kept (a pid alone may name another
    /// process by now).
    public var liveOwner: pid_t? {
        guard ownerPID != ProcessTable.currentPID, let ownerStartTime, !ProcessTable.hasExited(ownerPID),
            ProcessTable.startTime(of: ownerPID) == ownerStartTime
        else { return nil }
        return ownerPID
    }
}

/// A program the lab started inside a pod's namespace.
public struct LabProcess: Codable, Sendable, Hashable {
    public var pod: String
    public var netns: String
    public var pid: Int32
    /// /proc/PID/stat start time: pid + start time identify the process even after pid reuse.
    public var startTime: UInt64?
    public var argv: [String]
    public var logPath: String
}

/// Where labs keep their files.
public enum LabPaths {
    public static let root = "/run/keycard"
    public static func directory(_ lab: String) -> String { "\(root)/\(lab)" }
    public static func stateFile(_ lab: String) -> String { "\(directory(lab))/state.json" }
    /// The lab process's control socket, through which the live verbs hand it their changes.
    public static func controlSocket(_ lab: String) -> String { "\(directory(lab))/control.sock" }
    /// The output of pod `namespace/name`'s `command:` program (a file name fitted by `LabFileName`).
    public static func log(_ lab: String, namespace: String, pod: String) -> String {
        "\(directory(lab))/" + LabFileName.fitted("\(namespace).\(pod)") + ".log"
    }

    /// Where a live verb keeps the manifest it read from standard input (`-f -`) while it makes the
    /// change: in the lab's folder, so that `keycard down` removes it even when the verb was killed.
    public static func standardInputFolder(_ lab: String, pid: Int32) -> String { "\(directory(lab))/stdin-\(pid)" }

    /// The `/etc/hosts` bind-mounted into pod `namespace/name`'s program (`PodSpec.hostsFile`).
    public static func hostsFile(_ lab: String, namespace: String, pod: String) -> String {
        // `.hosts`, never `.log`: no pod's log can take this name (a namespace has no dot).
        "\(directory(lab))/" + LabFileName.fitted("\(namespace).\(pod)") + ".hosts"
    }

    /// Writes one of the lab's files atomically.
    /// - Throws: `LabError.state` naming the file.
    static func write(_ text: String, to path: String, lab: String) throws(LabError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .state(lab: lab, path: path, reason: "cannot write: \(error)")
        }
    }
}

extension LabState {
    /// Writes the state atomically (temporary file + rename), so a crash never leaves half a file.
    public func write() throws(LabError) {
        let path = LabPaths.stateFile(labName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .state(lab: labName, path: path, reason: "cannot write: \(error)")
        }
    }

    /// The state of `lab`, nil when there is no state file.
    public static func read(_ lab: String) throws(LabError) -> LabState? {
        let path = LabPaths.stateFile(lab)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(LabState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .state(lab: lab, path: path, reason: "unreadable: \(error)")
        }
    }
}
