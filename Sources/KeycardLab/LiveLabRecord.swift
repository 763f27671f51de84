import Foundation

/// What the live-lab verbs (`keycard probe|scan|apply|delete|label`) need to rebuild the cluster a
/// lab holds now, kept at /run/keycard/<lab>/live.json: the scenario it came from, where policy is
/// enforced, and every change made since. The current cluster is the scenario's cluster after step
/// `baseStep`, with `journal` replayed on it in order.
public struct LiveLabRecord: Codable, Sendable, Hashable {
    public var version: Int = 1
    public var labName: String
    /// The scenario file, as an absolute path (with `manifests`: the first of them).
    public var scenario: String
    /// Plain manifests (files and folders, absolute paths) the lab was built from together, in
    /// place of a scenario file (`keycard run DIR --keep`, `keycard up DIR`); nil for a scenario.
    public var manifests: [String]? = nil
    /// With `manifests`: the namespace given to objects that name none (`-n`, as kubectl apply -n).
    public var namespace: String? = nil
    /// `pod` or `node`.
    public var enforcement: String
    /// 0 after `keycard up` (resources only); the number of steps after `keycard run --keep`.
    public var baseStep: Int
    public var journal: [LiveChange]

    /// SHA-256 (hex) of each input file (`Scenario.inputFiles`, absolute paths) when the lab came
    /// up; nil in a record written before keycard kept them. The live verbs rebuild the cluster
    /// from those files and refuse to when one changed: the lab holds what the old content made.
    public var inputs: [String: String]? = nil

    /// Audit mode (`spec.lab.mode: audit`, `keycard run --audit --keep`): the lab's rules log
    /// would-be drops and accept them, and every live verb keeps them so; nil in a record written
    /// before keycard kept it (enforcing).
    public var audit: Bool? = nil

    /// False while `keycard up` is still programming the lab (policies, Service proxy, lab process,
    /// DNS records): a lab whose `up` died there (`kill -9`) is incomplete, and the live verbs
    /// refuse it rather than judge an unprogrammed datapath. nil once complete (and in records
    /// written before keycard kept it).
    public var complete: Bool? = nil

    public init(labName: String, scenario: String, enforcement: String, baseStep: Int, journal: [LiveChange] = []) {
        self.labName = labName
        self.scenario = scenario
        self.enforcement = enforcement
        self.baseStep = baseStep
        self.journal = journal
    }
}

/// One change made to a live lab.
public struct LiveChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case apply, delete, label }
    public var kind: Kind
    /// apply/delete: the file as the user named it (for messages).
    public var file: String?
    /// apply/delete: the copy taken when the change was made, replayed later (the user's file may change).
    public var snapshot: String?
    /// label: `pod` or `namespace`.
    public var objectKind: String?
    /// label: `ns/name` for a pod, the name for a namespace.
    public var name: String?
    /// label: the labels, exactly.
    public var labels: [String: String]?
    /// apply/delete with `-n`: the namespace of the file's objects that name none.
    public var namespace: String?

    /// An apply or delete of `file`; `snapshot` (the copy replayed later) is taken when the change
    /// is committed (`LiveLabRecord.snapshot`).
    public static func manifest(_ kind: Kind, file: String, snapshot: String? = nil, namespace: String? = nil) -> LiveChange {
        LiveChange(kind: kind, file: file, snapshot: snapshot, namespace: namespace)
    }

    /// A `keycard label` change: the object's kind and name and its labels after the change.
    public static func label(objectKind: String, name: String, labels: [String: String]) -> LiveChange {
        LiveChange(kind: .label, objectKind: objectKind, name: name, labels: labels)
    }

    public var description: String {
        switch kind {
        case .apply, .delete: "\(kind.rawValue)\(namespace.map { " -n \($0)" } ?? "") -f \(file ?? "?")"
        case .label:
            "label \(objectKind ?? "?") \(name ?? "?") "
                + (labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }
}

extension LiveLabRecord {
    /// /run/keycard/<lab>/live.json.
    public static func path(_ lab: String) -> String { "\(LabPaths.directory(lab))/live.json" }
    /// Where apply/delete keep their copies of the user's files.
    public static func journalDirectory(_ lab: String) -> String { "\(LabPaths.directory(lab))/journal" }

    /// The record of `lab`, nil when the lab has none (not brought up by `keycard up` or `run --keep`).
    public static func read(_ lab: String) throws(LabError) -> LiveLabRecord? {
        let path = path(lab)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(LiveLabRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .state(lab: lab, path: path, reason: "unreadable: \(error)")
        }
    }

    /// Writes the record atomically (temporary file + rename).
    public func write() throws(LabError) {
        let path = Self.path(labName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .state(lab: labName, path: path, reason: "cannot write: \(error)")
        }
    }

    /// Copies `file` into the lab's journal folder as `<number>.yaml` (default: the next journal
    /// entry's) and returns the copy's path.
    public func snapshot(_ file: String, number: Int? = nil) throws(LabError) -> String {
        let directory = Self.journalDirectory(labName)
        let target = "\(directory)/\(number ?? journal.count + 1).yaml"
        do {
            // Never the lab's folder: a lab removed (`keycard down`) while a change was under way
            // is not brought back by that change's copy.
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            }
            // Atomic: written beside and renamed over the path, so a link planted there is replaced,
            // never followed to a file outside the lab's folder.
            try Data(contentsOf: URL(fileURLWithPath: file)).write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw .state(lab: labName, path: target, reason: "cannot copy \(file): \(error)")
        }
        return target
    }
}
