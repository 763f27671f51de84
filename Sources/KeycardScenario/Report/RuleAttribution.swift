import KeycardModel
import KeycardValues

/// Which NetworkPolicy rule decided a connection, from the model's `Verdict`, in the report's
/// words: an allowed connection names every rule that allowed it on an isolated side
/// (`shop/api-to-redis#egress[0]`); a denied one names the isolating policies of the side that
/// denied it (`monitoring/default-deny-all#egress`), since a default deny is no rule of its own but
/// the isolation those policies bring (https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation).
/// A side a ClusterNetworkPolicy rule decided (Accept, Deny) names that rule,
/// `ClusterNetworkPolicy/NAME#ingress[i]` (`AdminNetworkPolicy/NAME#...` for a converted one), as
/// the audit summary does: a tier's rule decides without any NetworkPolicy isolating the pod
/// (network-policy-api clusternetworkpolicy_types.go, `Tier`; docs/cluster-network-policy.md T1-T7).
/// Nil when no policy took part (neither side isolated, no cluster policy rule decided).
public struct RuleAttribution: Sendable, Hashable {
    /// The allowing rules (allowed) or the denying side's isolating policies (denied), egress first.
    public var entries: [Entry]
    /// Whether the model allows the connection.
    public var allowed: Bool

    /// One policy's part: `ns/policy#egress[0]` for a rule, `ns/policy#egress` for an isolation,
    /// `ClusterNetworkPolicy/NAME#egress[0]` for a cluster policy's rule.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// Whose part it is: a NetworkPolicy or a cluster-scoped policy.
        public enum Owner: Sendable, Hashable, CustomStringConvertible {
            case networkPolicy(ObjectKey)
            case clusterPolicy(ClusterPolicyKey)

            /// `ns/name`; `ClusterNetworkPolicy/name`, or the v1alpha1 kind a converted one keeps.
            public var description: String {
                switch self {
                case .networkPolicy(let key): key.description
                case .clusterPolicy(let key): key.origin == .clusterNetworkPolicy ? "ClusterNetworkPolicy/\(key.name)" : key.description
                }
            }
        }

        public var owner: Owner
        public var direction: NetworkPolicy.PolicyType
        /// The index in `spec.ingress` / `spec.egress`; nil for an isolating policy of a default deny.
        public var ruleIndex: Int?

        public init(policy: ObjectKey, direction: NetworkPolicy.PolicyType, ruleIndex: Int?) {
            self.init(owner: .networkPolicy(policy), direction: direction, ruleIndex: ruleIndex)
        }

        public init(owner: Owner, direction: NetworkPolicy.PolicyType, ruleIndex: Int?) {
            self.owner = owner
            self.direction = direction
            self.ruleIndex = ruleIndex
        }

        /// The NetworkPolicy; nil for a cluster policy's rule.
        public var policy: ObjectKey? {
            if case .networkPolicy(let key) = owner { key } else { nil }
        }

        public var description: String {
            "\(owner)#\(direction.rawValue.lowercased())" + (ruleIndex.map { "[\($0)]" } ?? "")
        }
    }

    public init(entries: [Entry], allowed: Bool) {
        self.entries = entries
        self.allowed = allowed
    }

    /// The attribution of `verdict`; nil when no policy isolates either side.
    public init?(_ verdict: Verdict) {
        allowed = verdict.decision == .allow
        var entries: [Entry] = []
        for (side, direction) in [(verdict.egress, NetworkPolicy.PolicyType.egress), (verdict.ingress, .ingress)] {
            if let step = side.tiers.last, let policy = step.policy,
                step.result == .accept && side.outcome == .allowed && allowed || step.result == .deny && side.outcome == .denied
            {
                entries.append(Entry(owner: .clusterPolicy(policy), direction: direction, ruleIndex: step.ruleIndex))
                continue
            }
            switch side.outcome {
            case .allowed where allowed:
                // The same rule may allow through several peers or ports: named once.
                for rule in side.allowingRules {
                    let entry = Entry(policy: rule.policy, direction: direction, ruleIndex: rule.ruleIndex)
                    if !entries.contains(entry) { entries.append(entry) }
                }
            case .denied:
                entries += side.isolatingPolicies.map { Entry(policy: $0, direction: direction, ruleIndex: nil) }
            default: break
            }
        }
        guard !entries.isEmpty else { return nil }
        self.entries = entries
    }

    /// The report's `rule`: the entries joined by ", ".
    public var text: String { entries.map(\.description).joined(separator: ", ") }

    /// The side that denied it first on the packet's way (egress, then ingress); nil when allowed.
    public static func denyingDirection(_ verdict: Verdict) -> NetworkPolicy.PolicyType? {
        if verdict.egress.outcome == .denied { return .egress }
        if verdict.ingress.outcome == .denied { return .ingress }
        return nil
    }

    /// Whether the kernel's own word agrees with the model for an observed cell: a drop logged by
    /// keycard's default-deny rule (`reason` "dropped: kc deny egress ns/pod", NFLOG) of the side the
    /// model says denied, or a local egress drop (`Operation not permitted`: the source's output
    /// chain dropped it); an accepted connection that answered (allowed by the kernel's rules, which
    /// the model attributes). A deny seen only as a timeout is not confirmed (anything may have lost
    /// it). Nil without an observation.
    public static func confirmed(_ verdict: Verdict, observed: Observation?, reason: String?) -> Bool? {
        guard let observed else { return nil }
        switch observed {
        case .skipped: return nil
        case .allow, .closed, .denyMTLS, .denyRBAC:
            return verdict.decision == .allow
        case .deny:
            guard let direction = denyingDirection(verdict) else { return false }
            let reason = reason ?? ""
            if reason.hasPrefix("dropped: kc deny ") {
                let logged = reason.dropFirst("dropped: kc deny ".count)
                let side = direction == .egress ? verdict.from : verdict.to
                let pod: String =
                    switch side {
                    case .service(_, let backend?), .exposed(_, _, let backend?): backend.description
                    default: side.description
                    }
                return logged.hasPrefix(direction.rawValue.lowercased() + " ")
                    && String(logged.dropFirst(direction.rawValue.count + 1)).hasPrefix(String(pod.prefix(40)))
            }
            // EPERM from connect(): only a local output (egress) rule drops that way.
            return direction == .egress && reason.contains("(errno 1)")
        }
    }
}
