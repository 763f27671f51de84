import KeycardModel
import KeycardValues

/// Staged policies (Calico `StagedKubernetesNetworkPolicy`) are never enforced: each cell whose
/// fate they would change is marked `would-deny` or `would-allow`, and the step lists, per policy,
/// the cells enforcing them would deny. The step's pass or fail is not touched.
public enum StagedEvaluation {
    /// `report` with each result's staged verdict set: what the cluster's staged policies would decide
    /// were they enforced; unchanged when the cluster stages none.
    public static func judge(_ report: StepReport, cluster: Cluster) -> StepReport {
        guard let staged = cluster.withStagedPolicies, var results = report.results else { return report }
        let now = PolicyEngine(cluster)
        let then = PolicyEngine(staged)
        let stagedKeys = Set(cluster.stagedPolicies.keys)
        var denied: [(cell: String, rule: RuleAttribution)] = []
        func mark(_ from: ObjectKey, _ to: Endpoint, _ port: ProtocolPort, _ cell: String) -> String? {
            let before = now.evaluate(fromSource: from, to: to, port: port)
            let after = then.evaluate(fromSource: from, to: to, port: port)
            guard before.decision != after.decision else { return nil }
            guard after.decision == .deny else { return "would-allow" }
            if var rule = RuleAttribution(after) {
                // Name the staged policies when they are among the causes (the usual case).
                let own = rule.entries.filter { $0.policy.map(stagedKeys.contains) == true }
                if !own.isEmpty { rule.entries = own }
                denied.append((cell, rule))
            }
            return "would-deny"
        }
        for index in results.indices {
            switch results[index] {
            case .probe(var cell):
                cell.staged = mark(cell.from, cell.to, cell.port, cell.cellDescription)
                results[index] = .probe(cell)
            case .scan(var scan):
                // A pod, or a Service's backend reached through its address.
                let endpoint = scan.reached(in: cluster)
                guard endpoint.reachedPod != nil, scan.model != nil else { continue }
                let port = ProtocolPort(.tcp, scan.port)
                scan.staged = mark(scan.from, endpoint, port, "\(scan.from) -> \(scan.to ?? scan.ip.description) \(port)")
                results[index] = .scan(scan)
            case .dns: continue
            }
        }
        var judged = report
        judged.results = results
        judged.staged = AuditedPolicy.group(denied)
        let line =
            denied.isEmpty
            ? "staged policies would deny nothing here"
            : "staged policies would deny \(denied.count): "
                + (judged.staged ?? []).map { "\($0.policy) \($0.wouldDeny)" }.joined(separator: ", ")
        judged.summary = [report.summary, line].compactMap { $0 }.joined(separator: "; ")
        return judged
    }
}
