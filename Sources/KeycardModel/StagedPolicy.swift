/// Calico's `projectcalico.org/v3` `StagedKubernetesNetworkPolicy`: a Kubernetes NetworkPolicy
/// staged for review, never enforced. Its would-be verdicts are those of the cluster with it
/// applied: `Set` puts it in place of the NetworkPolicy of the same name (or adds it), `Delete`
/// removes that NetworkPolicy (https://docs.tigera.io/calico-enterprise/latest/reference/resources/stagedkubernetesnetworkpolicy).
public struct StagedPolicy: Hashable, Sendable {
    /// `spec.stagedAction`.
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case set = "Set"
        case delete = "Delete"
    }

    /// The staged policy, read as a NetworkPolicy with the same defaults.
    public var policy: NetworkPolicy
    public var action: Action

    public init(policy: NetworkPolicy, action: Action = .set) {
        self.policy = policy
        self.action = action
    }

    public var key: ObjectKey { policy.key }
}

extension Cluster {
    /// The cluster as it would be with every staged policy enforced; nil when none is staged.
    public var withStagedPolicies: Cluster? {
        guard !stagedPolicies.isEmpty else { return nil }
        var staged = self
        for (key, entry) in stagedPolicies {
            switch entry.action {
            case .set: staged.policies[key] = entry.policy
            case .delete: staged.policies[key] = nil
            }
        }
        staged.stagedPolicies = [:]
        return staged
    }
}
