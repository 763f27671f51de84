import Foundation
import KeycardKernel
import KeycardLab

/// One mutating live verb as the lab process receives it on /run/keycard/<lab>/control.sock.
struct LiveRequest: Codable, Sendable, Hashable {
    /// apply, delete or label.
    var kind: LiveChange.Kind
    /// The verb's working folder: a relative `file` is read, and named in messages, as the user typed it.
    var directory: String
    /// apply/delete: the manifests as the user named them (a folder's in name order), made as one
    /// change: every file is read and checked before the lab is reprogrammed once.
    var files: [String]?
    /// label: `pod` or `namespace`.
    var objectKind: String?
    /// label: `ns/name` for a pod, the name for a namespace.
    var name: String?
    /// label: the labels, exactly (already validated by the verb).
    var labels: [String: String]?
    /// apply/delete `-n`: the namespace of objects that name none (nil: `default`).
    var namespace: String?

    static func manifests(_ kind: LiveChange.Kind, files: [String], namespace: String? = nil) -> LiveRequest {
        LiveRequest(kind: kind, directory: FileManager.default.currentDirectoryPath, files: files, namespace: namespace)
    }

    static func label(_ kind: LabelKind, name: String, labels: [String: String]) -> LiveRequest {
        LiveRequest(
            kind: .label, directory: FileManager.default.currentDirectoryPath, objectKind: kind.rawValue, name: name, labels: labels)
    }
}

/// The lab process's answer: what the verb prints, and whether it failed (exit 2, nothing applied).
struct LiveReply: Codable, Sendable, Hashable {
    var out: [String] = []
    var err: [String] = []
    var failed = false
}

/// The verb's end of the control socket.
enum LiveControl {
    /// A connection to lab `lab`'s process; nil when no lab process listens (none started, or it
    /// is gone): the verb then makes the change itself.
    static func connect(lab: String) throws -> OwnedDescriptor? {
        try ControlSocket.connect(to: LabPaths.controlSocket(lab))
    }

    /// Hands `request` to lab `lab`'s process over `connection` and returns its reply. Throws
    /// `LiveError` when the lab process closes the connection without one, or when `giveUp` (asked
    /// every 200 ms while no reply came) says to stop waiting.
    static func submit(
        _ request: LiveRequest, lab: String, on connection: OwnedDescriptor, giveUp: () -> Bool = { false }
    ) throws -> LiveReply {
        let path = LabPaths.controlSocket(lab)
        try ControlSocket.send(try JSONEncoder().encode(request), on: connection)
        let received: Data?
        do {
            received = try ControlSocket.receive(on: connection, giveUp: giveUp)
        } catch {
            guard error.errno == ECANCELED else { throw error }
            throw LiveError(
                "lab \(lab): stopped waiting for the lab process's reply; it may still make the change (see \(LiveLabServer.logPath(lab))): `keycard status \(lab)` shows what the lab holds"
            )
        }
        guard let data = received else {
            throw LiveError(
                "lab \(lab): the lab process closed \(path) without replying (see \(LiveLabServer.logPath(lab))); `keycard status \(lab)` shows what the lab holds"
            )
        }
        return try JSONDecoder().decode(LiveReply.self, from: data)
    }
}
