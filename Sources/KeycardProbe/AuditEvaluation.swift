import KeycardModel
import KeycardScenario
import KeycardValues

/// Audit mode's judgement of a step (`spec.lab.mode: audit`, `keycard run --audit`): the lab
/// enforced nothing, so every cell must behave as on a network without policies; each cell the
/// policies would deny is marked `would-deny` with the policies responsible, and the step lists,
/// per policy, what enforcement would have broken.
public enum AuditEvaluation {
    /// `cell` marked `would-deny` when the model's policies deny it: the lab enforced nothing, so
    /// it must have got through (`ProbeResult.passed`). A drop no policy decides (no path: a
    /// Service without endpoints, `Verdict.hasNoPath`) is not enforcement's, and stays a drop
    /// without it. A live lab in audit mode marks its probes so too; `engine` judges `cell`'s step.
    public static func marked(_ cell: ProbeResult, engine: PolicyEngine) -> ProbeResult {
        marked(cell, verdict: engine.evaluate(fromSource: cell.from, to: cell.to, port: cell.port))
    }

    /// As above, with the cell's `verdict` already judged.
    static func marked(_ cell: ProbeResult, verdict: Verdict) -> ProbeResult {
        var cell = cell
        if cell.model == .deny, !verdict.hasNoPath { cell.audit = "would-deny" }
        return cell
    }

    /// `report` (as `StepEvaluation` judged it against the policies) judged again for audit mode,
    /// with `cluster` the state of the step.
    public static func judge(_ report: StepReport, cluster: Cluster) -> StepReport {
        guard var results = report.results else { return report }
        let engine = PolicyEngine(cluster)
        var denied: [(cell: String, policies: [String])] = []
        var passed = true
        var unlikeQueries = 0
        for index in results.indices {
            switch results[index] {
            case .probe(var cell):
                let verdict = engine.evaluate(fromSource: cell.from, to: cell.to, port: cell.port)
                cell = marked(cell, verdict: verdict)
                if cell.audit != nil {
                    let policies = AuditedPolicy.denying(verdict)
                    if !policies.isEmpty { denied.append((cell.cellDescription, policies)) }
                }
                passed = passed && cell.passed
                results[index] = .probe(cell)
            case .scan(var scan):
                // A pod, or a Service's backend reached through its address.
                let endpoint = scan.reached(in: cluster)
                let port = ProtocolPort(.tcp, scan.port)
                var expected = scan.model
                if scan.model == .filtered, endpoint.reachedPod != nil {
                    let verdict = engine.evaluate(fromSource: scan.from, to: endpoint, port: port)
                    let policies = AuditedPolicy.denying(verdict)
                    if !policies.isEmpty {
                        scan.audit = "would-deny"
                        scan.rule = RuleAttribution(verdict)?.text ?? policies.joined(separator: ", ")
                        denied.append(("\(scan.from) -> \(scan.to ?? scan.ip.description) \(port)", policies))
                        // Without enforcement: as the same scan judged with no policy at all.
                        expected = ScanJudge(
                            cluster.withoutPolicies, source: scan.from, meshIdentity: nil, listening: cluster.serviceTargetPorts()
                        ).state(endpoint, port)
                    }
                }
                // What the model does not judge (`Cluster.scanTargets`) is reported, not compared.
                passed = passed && (scan.model == nil || scan.observed == expected)
                results[index] = .scan(scan)
            case .dns(var dns):
                // Without enforcement the query is answered from the records.
                let answer = DNSAnswer.model(
                    allowed: true,
                    addresses: DNSRecords(cluster).resolve(
                        dns.name, fromNamespace: dns.from.namespace, dnsConfig: cluster.pods[dns.from]?.dnsConfig))
                // Enforcement changes the lookup: blocked, or (a truncated answer's TCP retry
                // denied) another end of glibc's search, such as NXDOMAIN for a short name.
                if dns.model == .blocked || dns.model != answer {
                    // The port that blocks: the first the query uses, else TCP/53 after a truncated
                    // UDP answer (`Timeline.dnsPorts`).
                    let first = Timeline.dnsPort(Timeline.resolvConf(of: dns.from, in: cluster))
                    let ports = dns.truncated == true ? [first, ProtocolPort(.tcp, 53)] : [first]
                    let verdicts = ports.map {
                        engine.evaluate(fromSource: dns.from, to: ClusterDNS.destination(in: cluster), port: $0)
                    }
                    let verdict = verdicts.first { !AuditedPolicy.denying($0).isEmpty } ?? verdicts[0]
                    let policies = AuditedPolicy.denying(verdict)
                    if !policies.isEmpty {
                        dns.audit = "would-deny"
                        dns.rule = RuleAttribution(verdict)?.text ?? policies.joined(separator: ", ")
                        denied.append(("\(dns.from) -> dns \(dns.name)", policies))
                    }
                }
                let asWithout = dns.observed.map { $0 == answer } ?? true
                if !asWithout { unlikeQueries += 1 }
                passed = passed && asWithout
                results[index] = .dns(dns)
            }
        }
        var judged = report
        judged.results = results
        judged.passed = passed
        judged.audit = AuditedPolicy.group(denied)
        // The enforcing judgement's "wrong" list would mislead: say what audit mode checks instead.
        let unlike =
            results.filter {
                switch $0 {
                case .probe(let cell): !cell.passed
                case .scan(let scan): scan.model != nil && scan.audit == nil && scan.observed != scan.model
                case .dns: false
                }
            }.count + unlikeQueries
        let head: String
        switch report.kind {
        case .scan: head = report.summary?.components(separatedBy: "; ").first ?? ""
        case .dns: head = "\(results.count) quer\(results.count == 1 ? "y" : "ies")"
        default: head = "\(results.count) probes"
        }
        judged.summary = "\(head), \(unlike) not as without enforcement; " + AuditedPolicy.summary(denied.count, judged.audit ?? [])
        return judged
    }
}
