import KeycardKernel
import KeycardTopology

/// What is known about one lab on this machine.
public struct LabSummary: Sendable, Hashable {
    public var name: String
    /// Its namespaces present under /run/netns.
    public var namespaces: [String]
    /// Its state file, if readable; nil for a lab found only by its namespaces.
    public var state: LabState?
    /// Pods, addresses, nodes and served ports come from the plan in the state.
    public var plan: LabPlan? { state?.plan }
    /// True when the state says ready and every planned namespace exists.
    public var isComplete: Bool {
        guard let state, state.phase == .ready else { return false }
        return Set(state.plan.namespaces.map(\.name)).isSubset(of: Set(namespaces))
    }
    public var endpoints: [LabEndpoint] { plan.map(LabEndpoint.all(in:)) ?? [] }
}

extension Lab {
    /// Every lab found on the machine, by name.
    public static func list() -> [LabSummary] {
        labNames().map(status)
    }

    /// What is known about lab `name` (empty namespaces and no state when it does not exist).
    public static func status(_ name: String) -> LabSummary {
        LabSummary(name: name, namespaces: namespaces(of: name), state: try? LabState.read(name))
    }
}
