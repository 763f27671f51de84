import KeycardKernel
import KeycardTopology

/// Every failure of the lab layer, saying which lab and what went wrong.
public enum LabError: Error, CustomStringConvertible, Sendable {
    /// The lab name is taken: a state directory or namespaces with its prefix exist.
    case nameInUse(lab: String, evidence: String)
    case invalidSpec(TopologyError)
    /// A kernel operation failed during `stage` (e.g. "create namespaces", "addresses and routes").
    case kernel(lab: String, stage: String, KernelError)
    case state(lab: String, path: String, reason: String)
    /// A stage of bring-up outside the lab layer (`Lab.up`'s `beforePrograms`) failed.
    case startUp(lab: String, stage: String, reason: String)
    /// Tear-down left something behind.
    case teardownIncomplete(lab: String, leftovers: [String])

    public var description: String {
        switch self {
        case .nameInUse(let lab, let evidence):
            return "lab \"\(lab)\" is already in use (\(evidence)); remove it with `keycard down \(lab)` or pick another name"
        case .invalidSpec(let error):
            return "invalid lab: \(error)"
        case .kernel(let lab, let stage, let error):
            return "lab \(lab): \(stage) failed: \(error)"
        case .state(let lab, let path, let reason):
            return "lab \(lab): state file \(path): \(reason)"
        case .startUp(let lab, let stage, let reason):
            return "lab \(lab): \(stage): \(reason)"
        case .teardownIncomplete(let lab, let leftovers):
            return "lab \(lab): tear-down left \(leftovers.joined(separator: ", "))"
        }
    }
}
