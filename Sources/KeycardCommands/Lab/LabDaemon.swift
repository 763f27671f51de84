import Foundation
import KeycardKernel
import KeycardLab
import KeycardScenario

/// Starts the lab process (`keycard serve LAB`) that keeps a lab's ports served in the background.
enum LabDaemon {
    /// For `keycard run --keep`: starts the lab process, which waits until this process has exited
    /// (and released the ports its own run served) before it opens them. Does not wait for it.
    static func spawnServer(lab: String) throws {
        let pid = try spawn(lab: lab, afterParent: true)
        LiveLabServer.markPending(lab: lab, pid: pid)
        Console.error("lab \(lab): lab process \(pid) will serve the ports once this run exits (server.log in \(LabPaths.directory(lab)))")
    }

    /// For `keycard run --keep`, with what the live verbs need: records the lab's scenario and
    /// enforcement (cluster as after the last step), then starts the lab process as `spawnServer(lab:)`.
    /// `manifests`: the plain manifests the lab was built from (then `scenario` is the first), with
    /// the namespace given to their objects that name none. `inputs`: the digests of the files
    /// the scenario or manifests were read from, taken when they were read (`LiveInputDigests`).
    /// `audit`: the run was in audit mode, which the live verbs keep (`LiveLabRecord.audit`).
    static func keep(
        lab: String, scenario: String, manifests: (paths: [String], namespace: String?)? = nil, enforcement: Enforcement, afterStep: Int,
        inputs: [String: String], audit: Bool = false
    ) throws {
        var record = LiveLabRecord(
            labName: lab, scenario: LiveInput.absolute(scenario), enforcement: enforcement.rawValue, baseStep: afterStep)
        record.inputs = inputs
        record.audit = audit ? true : nil
        record.manifests = manifests?.paths.map(LiveInput.absolute)
        record.namespace = manifests?.namespace
        try record.write()
        try spawnServer(lab: lab)
    }

    /// For `keycard up`: starts the lab process and waits until its ports are open. Returns its pid.
    static func startServer(lab: String) throws(LabError) -> pid_t {
        let pid = try spawn(lab: lab, afterParent: false)
        try LiveLabServer.waitUntilReady(lab: lab, pid: pid)
        return pid
    }

    private static func spawn(lab: String, afterParent: Bool) throws(LabError) -> pid_t {
        guard let executable = Privileges.executablePath() else {
            throw .state(lab: lab, path: "/proc/self/exe", reason: "cannot find keycard's own executable")
        }
        return try LiveLabServer.spawn(
            lab: lab, executable: executable, arguments: ["serve", lab] + (afterParent ? ["--after", Self.me] : []))
    }

    /// This process as PID:STARTTIME.
    private static var me: String {
        let pid = ProcessTable.currentPID
        return "\(pid):\(ProcessTable.startTime(of: pid) ?? 0)"
    }
}
