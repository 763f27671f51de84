import KeycardModel

/// `spec.lab.mode`: whether the lab's rules enforce the policies or only log what they would drop.
public enum LabMode: String, Sendable, Codable, CaseIterable {
    /// Kubernetes' semantics: what no rule allows is dropped.
    case enforce
    /// Audit, like Cilium's policy audit mode (verdict AUDIT): a packet the policies would drop is
    /// logged and accepted; the report lists, per policy, what enforcement would have denied.
    case audit
}

extension ScenarioParser {
    /// `spec.lab.mode`: `enforce` (the default) or `audit`.
    func labMode(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        guard let value = fields["mode"] else { return }
        settings.mode = try value.choice("spec.lab.mode", expected: "enforce or audit")
    }
}
