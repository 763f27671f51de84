import KeycardModel

extension Timeline {
    /// Whether a ClusterNetworkPolicy (or a converted v1alpha1 ANP/BANP) is in force at some
    /// moment of the scenario.
    public var usesClusterPolicies: Bool {
        !initial.clusterPolicies.isEmpty || scenario.steps.contains { !cluster(afterStep: $0.index).clusterPolicies.isEmpty }
    }
}
