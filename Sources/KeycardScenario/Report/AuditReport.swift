import KeycardModel
import KeycardValues

/// Audit mode's account of one policy in one step: the cells it would have denied under
/// enforcement (`ns/policy#egress` for an isolation, as `RuleAttribution` names it).
public struct AuditedPolicy: Codable, Sendable, Equatable {
    public var policy: String
    /// How many cells (probe cells and scan targets) it would have denied.
    public var wouldDeny: Int
    /// Those cells, as `from -> to PORT` (at most `cellLimit`).
    public var cells: [String]

    public static let cellLimit = 50

    /// Groups `(cell, attribution)` pairs by policy entry, in the order policies first appear.
    public static func group(_ denied: [(cell: String, rule: RuleAttribution)]) -> [AuditedPolicy] {
        group(denied.map { ($0.cell, $0.rule.entries.map(\.description)) })
    }

    /// Groups `(cell, policies)` pairs by policy, in the order policies first appear.
    public static func group(_ denied: [(cell: String, policies: [String])]) -> [AuditedPolicy] {
        var order: [String] = []
        var byPolicy: [String: AuditedPolicy] = [:]
        for (cell, policies) in denied {
            for key in policies {
                if byPolicy[key] == nil {
                    order.append(key)
                    byPolicy[key] = AuditedPolicy(policy: key, wouldDeny: 0, cells: [])
                }
                byPolicy[key]?.wouldDeny += 1
                if (byPolicy[key]?.cells.count ?? 0) < cellLimit { byPolicy[key]?.cells.append(cell) }
            }
        }
        return order.compactMap { byPolicy[$0] }
    }

    /// Who would deny `verdict` under enforcement: its `RuleAttribution` entries (`ns/policy#egress`
    /// for an isolation, `ClusterNetworkPolicy/NAME#egress[i]` for a cluster policy's Deny rule);
    /// empty when nothing denies it.
    public static func denying(_ verdict: Verdict) -> [String] {
        guard verdict.decision == .deny else { return [] }
        return RuleAttribution(verdict)?.entries.map(\.description) ?? []
    }

    /// `audit: enforcement would deny 56: monitoring/default-deny-all#egress 56, ...`.
    public static func summary(_ total: Int, _ policies: [AuditedPolicy]) -> String {
        guard total > 0 else { return "audit: enforcement would deny nothing here" }
        return "audit: enforcement would deny \(total): " + policies.map { "\($0.policy) \($0.wouldDeny)" }.joined(separator: ", ")
    }
}
