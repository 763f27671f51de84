import KeycardModel

extension ObjectDecoder {
    /// Calico's `projectcalico.org/v3` `StagedKubernetesNetworkPolicy`: a NetworkPolicy spec (read
    /// with the same defaults and validation) plus `spec.stagedAction`, `Set` (default) or `Delete`.
    mutating func stagedPolicy(_ value: YAMLValue) throws(ScenarioError) -> StagedPolicy {
        let kind = "StagedKubernetesNetworkPolicy"
        let policy = try networkPolicy(value, kind: kind, extraSpecFields: ["stagedAction"])
        var action = StagedPolicy.Action.set
        if let spec = try value.fields(kind, allowed: ["apiVersion", "kind", "metadata", "spec", "status"])["spec"],
            let actionValue = try spec.fields(
                "\(kind) spec", allowed: ["podSelector", "policyTypes", "ingress", "egress", "stagedAction"])[
                    "stagedAction"]
        {
            action = try actionValue.choice("spec.stagedAction", expected: "Set or Delete")
        }
        return StagedPolicy(policy: policy, action: action)
    }
}
