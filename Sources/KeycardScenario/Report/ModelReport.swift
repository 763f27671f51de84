import KeycardModel
import KeycardValues

/// The report `keycard model` prints: every step with the model's verdicts and the file's
/// expectations, nothing observed.
public enum ModelReport {
    /// - Parameter probeCells: each probe step's cells by step index, when the caller has them
    ///   already (`Timeline.probeCells()`: `keycard model` renders the same cells as a table);
    ///   nil computes them.
    public static func build(_ timeline: Timeline, enforcement: Enforcement? = nil, probeCells: [Int: [ProbeCell]]? = nil) -> Report {
        let scenario = timeline.scenario
        var steps: [StepReport] = []
        for step in scenario.steps {
            switch step.action {
            case .probe:
                let cells = probeCells?[step.index] ?? timeline.cells(ofProbeStep: step.index)
                let results = cells.map { $0.result() }
                let failed = results.filter { !$0.passed }
                steps.append(
                    StepReport(
                        step, passed: failed.isEmpty,
                        results: results.map(ResultRecord.probe),
                        summary: "\(results.count) cells, \(results.filter { $0.model == .allow }.count) allowed by the model"
                            + (failed.isEmpty ? "" : ", \(failed.count) expectations disagree with the model")))
            case .scan(let scan):
                guard let resolved = timeline.scans[step.index] else { continue }
                var results: [ScanResult] = []
                var passed = true
                var summaries: [String] = []
                for source in resolved.sources {
                    let targets = timeline.scanTargets(ofStep: step.index, from: source, scan)
                    results += targets.filter { !$0.isQuiet(observed: nil) }.map { ScanResult($0, from: source) }
                    let open = Set(targets.filter { $0.model == .open }.map { scanEndpoint($0.endpoint, $0.ip, $0.port) })
                    let unjudged = Set(targets.filter { $0.model == nil }.map { scanEndpoint($0.endpoint, $0.ip, $0.port) })
                    if let expected = resolved.expectOpen(for: source), expected.subtracting(unjudged) != open { passed = false }
                    summaries.append((resolved.sources.count > 1 ? "from \(source): " : "") + blastRadius(open))
                }
                steps.append(
                    StepReport(
                        step, passed: passed,
                        results: results.map(ResultRecord.scan), summary: summaries.joined(separator: "; ")))
            case .dns(let dns):
                let result = dnsResult(dns, step: step, timeline: timeline)
                steps.append(
                    StepReport(
                        step, passed: result.passed,
                        results: [.dns(result)], summary: dnsSummary(result)))
            default:
                steps.append(
                    StepReport(
                        step, passed: true,
                        summary: timeline.exposureSummary(ofStep: step.index)))
            }
        }
        // Staged policies (never enforced): what enforcing them would change.
        steps = steps.map { StagedEvaluation.judge($0, cluster: timeline.cluster(afterStep: $0.index)) }
        return Report(timeline, enforcement: enforcement ?? scenario.lab.enforcement, steps: steps)
    }

    /// The model's side of a `dns` step: the expectation (or the model's answer) and the model's answer.
    public static func dnsResult(_ dns: DNSStep, step: Step, timeline: Timeline) -> DNSResult {
        let model = timeline.dnsModel(dns, atStep: step.index)
        var result = DNSResult(
            from: dns.from, name: dns.name, server: timeline.dnsServer(atStep: step.index) ?? IPv4(0),
            expected: dns.expect ?? model, model: model)
        result.reason = timeline.dnsUnjudgedReason(dns, atStep: step.index)
        if timeline.resolvConf(of: dns.from, atStep: step.index).usesTCP { result.overTCP = true }
        if timeline.dnsTruncated(dns, atStep: step.index) { result.truncated = true }
        return result
    }

    /// "web.x.svc.cluster.local from x/a: [10.96.0.5] (model [10.96.0.5])".
    public static func dnsSummary(_ result: DNSResult) -> String {
        var text = "\(result.name) from \(result.from) via \(result.server): "
        if let reason = result.reason { return text + "not judged: \(reason)" }
        if let observed = result.observed {
            text += "\(observed), expected \(result.expected)"
        } else {
            text += "model \(result.model)"
        }
        if result.truncated == true { text += " (the UDP answer is truncated: asked again over TCP/53)" }
        if result.expected != result.model { text += "; the expectation disagrees with the policy model (\(result.model))" }
        return text
    }

    static func isBareAddress(_ endpoint: Endpoint) -> Bool {
        if case .address = endpoint { return true }
        return false
    }

    /// The endpoint's name in a report, nil for a bare address (reported by its address alone).
    public static func name(of endpoint: Endpoint) -> String? {
        isBareAddress(endpoint) ? nil : endpoint.description
    }

    /// A pod is named by its key; anything else by its address.
    public static func scanEndpoint(_ endpoint: Endpoint, _ ip: IPv4, _ port: Int) -> ScanEndpoint {
        if case .pod(let key) = endpoint { return ScanEndpoint(host: .pod(key), port: port) }
        return ScanEndpoint(host: .ip(ip), port: port)
    }

    /// "blast radius: 7 open endpoints on 4 pods".
    public static func blastRadius(_ open: Set<ScanEndpoint>) -> String {
        let hosts = Set(open.map(\.host))
        return "blast radius: \(open.count) open endpoint\(open.count == 1 ? "" : "s") on \(hosts.count) host\(hosts.count == 1 ? "" : "s")"
    }
}
