import KeycardModel

/// The checks about ClusterNetworkPolicy tiers.
extension LintPass {
    /// `cluster-policy-priority-tie`: two policies of one tier at one priority that share a
    /// subject pod. The API leaves their order to the implementation ("the implementation can apply
    /// any of the matching policies", `ClusterNetworkPolicySpec.Priority`); keycard takes them by
    /// name, as kube-network-policies does, so its verdict is one a cluster may not give. Reported
    /// once per pair, at the later policy.
    mutating func checkClusterPolicyTies() {
        let policies = cluster.clusterPolicies.values.sorted { $0.key < $1.key }
        for (index, later) in policies.enumerated() {
            for earlier in policies[..<index] where earlier.tier == later.tier && earlier.priority == later.priority {
                guard
                    let shared = pods.first(where: {
                        !$0.hostNetwork && engine.selects(earlier.subject, $0) && engine.selects(later.subject, $0)
                    })
                else { continue }
                report(
                    "cluster-policy-priority-tie",
                    "\(later.key) and \(earlier.key) are both \(later.tier.rawValue) policies at priority \(later.priority) and both select \(shared.key): the API leaves their order to the implementation; keycard applies \(earlier.key) first (by name)",
                    Self.ref(later), [.key("spec"), .key("priority")])
            }
        }
    }

    static func ref(_ policy: ClusterNetworkPolicy) -> ObjectRef {
        let kind: ObjectKind =
            switch policy.key.origin {
            case .clusterNetworkPolicy: .clusterNetworkPolicy
            case .adminNetworkPolicy: .adminNetworkPolicy
            case .baselineAdminNetworkPolicy: .baselineAdminNetworkPolicy
            }
        return ObjectRef(kind: kind, namespace: nil, name: policy.name)
    }
}
