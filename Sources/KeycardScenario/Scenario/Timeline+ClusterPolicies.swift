import KeycardModel

extension Timeline {
    /// Whether a ClusterNetworkPolicy (or a converted v1alpha1 ANP/BANP) is in force at some
    /// moment of the scenario.
    public var usesClusterPolicies: Bool {
        !initial.clusterPolicies.isEmpty || scenario.steps.contains { !cluster(afterStep: $0.index).clusterPolicies.isEmpty }
    }
}

/// A lab run of a scenario with ClusterNetworkPolicies: the model (`check`, `model`, `explain`)
/// evaluates the tiers, the lab's datapath does not enforce them yet, so a run would compare the
/// model with packets that never met the tiers. Refused instead of reporting false mismatches.
public struct ClusterPoliciesNotEnforced: Error, CustomStringConvertible, Sendable {
    public var scenario: String

    public init(scenario: String) { self.scenario = scenario }

    public var description: String {
        "scenario \(scenario) uses ClusterNetworkPolicy, which keycard models (check, model, explain) but the lab does not enforce yet; run `keycard model` instead"
    }
}
