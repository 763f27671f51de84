import KeycardModel
import KeycardValues

extension PolicyGenerator {
    /// What `generate` made, as its summary line (terminal and YAML header) counts it: every
    /// number is taken from the generated policies and the flows themselves, so the line cannot
    /// claim what was not written.
    public struct Summary: Equatable, Sendable {
        /// Generated policies, and their rules (ingress and egress together).
        public var policies = 0
        public var rules = 0
        /// Observed flows: those of TCP, UDP or SCTP, then answered ICMP probes.
        public var flows = 0
        public var icmp = 0
        /// Flows the model of the cluster with the generated policies (in place of the scenario's)
        /// allows: what the policies keep open.
        public var allowed = 0
        /// Flows no rule was written for: a pod of it is gone by the last step (`gone`), or the
        /// model still denies it (`denied`: a ClusterNetworkPolicy's Deny the generated
        /// NetworkPolicies cannot override). ICMP flows are skipped too (`icmp`).
        public var gone = 0
        public var denied = 0

        public init() {}

        /// Every flow skipped, ICMP included.
        public var skipped: Int { gone + denied + icmp }

        /// `generated 7 policies (12 rules) from 20 observed flows: 18 allowed, 2 skipped (1 ICMP, 1 whose pod is gone by the last step)`.
        public var line: String {
            var reasons: [String] = []
            if icmp > 0 { reasons.append("\(icmp) ICMP") }
            if gone > 0 { reasons.append("\(gone) whose pod is gone by the last step") }
            if denied > 0 { reasons.append("\(denied) still denied by a ClusterNetworkPolicy") }
            return "generated \(counted(policies, "policy", "policies")) "
                + "(\(counted(rules, "rule"))) from \(counted(flows + icmp, "observed flow")): \(allowed) allowed, \(skipped) skipped"
                + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
        }
    }

    /// This generator's cluster with `policies` in place of its NetworkPolicies and staged ones:
    /// what the summary and `generate --prove` judge.
    public func applying(_ policies: [NetworkPolicy]) -> Cluster {
        var applied = cluster
        applied.policies = Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) })
        applied.stagedPolicies = [:]
        return applied
    }

    /// The summary of `policies` generated from `flows` and `icmp` answered ICMP flows
    /// (`Summary`), judged by the model of this generator's cluster with `policies` in place of
    /// its NetworkPolicies.
    public func summary(_ flows: Set<ObservedFlow>, policies: [NetworkPolicy], icmp: Int) -> Summary {
        var summary = Summary()
        summary.policies = policies.count
        summary.rules = policies.map { ($0.ingress?.count ?? 0) + ($0.egress?.count ?? 0) }.reduce(0, +)
        summary.flows = flows.count
        summary.icmp = icmp
        let engine = PolicyEngine(applying(policies))
        for flow in flows {
            guard cluster.hasSource(flow.from), cluster.hasSource(flow.to) else {
                summary.gone += 1
                continue
            }
            let allowed = engine.evaluate(fromSource: flow.from, to: cluster.source(flow.to), port: flow.port).decision == .allow
            if allowed { summary.allowed += 1 } else { summary.denied += 1 }
        }
        return summary
    }
}
