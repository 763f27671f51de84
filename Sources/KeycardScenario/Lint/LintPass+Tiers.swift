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
                        engine.selects(earlier.subject, $0) && engine.selects(later.subject, $0)
                    })
                else { continue }
                report(
                    "cluster-policy-priority-tie",
                    "\(later.key) and \(earlier.key) are both \(later.tier.rawValue) policies at priority \(later.priority) and both select \(shared.key): the API leaves their order to the implementation; keycard applies \(earlier.key) first (\(earlier.key.origin == later.key.origin ? "by name" : "ClusterNetworkPolicies before converted v1alpha1 policies"))",
                    Self.ref(later), [.key("spec"), .key("priority")])
            }
        }
    }

    /// `policy-selects-nothing` and `peer-selects-nothing` for cluster policies: a subject that
    /// selects no pod (the policy judges nothing), and a `namespaces` or `pods` peer that matches no
    /// pod (the rule acts on nothing: an Accept opens nothing, a Deny guards nothing).
    mutating func checkClusterPolicySelectors() {
        let policies = cluster.clusterPolicies.values.sorted { $0.key < $1.key }
        for policy in policies {
            if !cluster.pods.values.contains(where: { engine.selects(policy.subject, $0) }) {
                report(
                    "policy-selects-nothing", "\(policy.key)'s subject selects no pod: the policy judges no connection",
                    Self.ref(policy), [.key("spec"), .key("subject")])
            }
            for direction in NetworkPolicy.PolicyType.allCases {
                for (index, rule) in policy.rules(direction).enumerated() {
                    for (peerIndex, peer) in rule.peers.enumerated() {
                        switch peer {
                        case .namespaces, .pods: break
                        case .networks, .nodes, .domainNames: continue
                        }
                        if cluster.pods.keys.contains(where: { engine.matches(peer, action: rule.action, .pod($0)) }) { continue }
                        let field = direction == .ingress ? "from" : "to"
                        report(
                            "peer-selects-nothing",
                            "\(Self.ruleName(direction, index)).\(field)[\(peerIndex)] of \(policy.key) (\(rule.action.rawValue)) selects no pod",
                            Self.ref(policy), Self.rulePath(direction, index) + [.key(field), .index(peerIndex)])
                    }
                }
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
