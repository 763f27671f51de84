import KeycardModel
import KeycardScenario
import KeycardValues

/// Runs one probe or scan step through a runner and judges it against the expectation.
public enum StepEvaluation {
    /// The step's cells (`Timeline.cells(ofProbeStep:)`), observed through `runner` with the scenario's
    /// probe defaults, each judged against its expected mark; the summary names up to five wrong cells.
    /// Throws what the runner throws.
    public static func probe(_ step: Step, timeline: Timeline, runner: ProbeRunner) throws -> StepReport {
        let cells = timeline.cells(ofProbeStep: step.index)
        let observed = try runner.observe(cells, settings: timeline.scenario.probeDefaults)
        let results = zip(cells, observed).map { cell, seen in cell.result(seen) }
        let failed = results.filter { !$0.passed }
        let skipped = results.filter { $0.observed == .skipped }.count
        var summary = "\(results.count) probes, \(results.count - failed.count) as expected"
        if skipped > 0 { summary += ", \(skipped) skipped" }
        if !failed.isEmpty {
            summary += "; wrong: " + failed.prefix(5).map(\.cellDescription).joined(separator: ", ")
            if failed.count > 5 { summary += " and \(failed.count - 5) more" }
        }
        return StepReport(
            step, passed: failed.isEmpty,
            results: results.map(ResultRecord.probe), summary: summary)
    }

    /// A scan from each of the step's sources (one pod, or every replica of a workload): the step
    /// passes when every source sees exactly the open set expected of it.
    public static func scan(_ step: Step, _ scan: ScanStep, timeline: Timeline, runner: ProbeRunner) throws -> StepReport {
        guard let resolved = timeline.scans[step.index] else {
            return StepReport(step, passed: false, summary: "scan not resolved")
        }
        var results: [ScanResult] = []
        var passed = true
        var summaries: [String] = []
        for source in resolved.sources {
            let targets = timeline.scanTargets(ofStep: step.index, from: source, scan)
            let probes = targets.map { ScanProbe(endpoint: $0.endpoint, ip: $0.ip, port: $0.port) }
            let states = try runner.scan(from: source, probes, settings: timeline.scenario.probeDefaults, identity: scan.identity)
            var observedOpen: Set<ScanEndpoint> = []
            var modelOpen: Set<ScanEndpoint> = []
            // Connections the model does not judge (`Cluster.scanTargets`): reported, not compared.
            var unjudged: Set<ScanEndpoint> = []
            // The blast radius counts every answer, judged or not.
            var reached: Set<ScanEndpoint> = []
            for (target, state) in zip(targets, states) {
                let endpoint = ModelReport.scanEndpoint(target.endpoint, target.ip, target.port)
                if state == .open { reached.insert(endpoint) }
                if target.model == nil {
                    unjudged.insert(endpoint)
                } else if state == .open {
                    observedOpen.insert(endpoint)
                }
                if target.model == .open { modelOpen.insert(endpoint) }
                // Silent bare addresses would bury the answer; everything else is reported.
                if target.isQuiet(observed: state) { continue }
                results.append(ScanResult(target, from: source, observed: state))
            }
            let explicit = resolved.expectOpen(for: source)?.subtracting(unjudged)
            let expected = explicit ?? modelOpen
            if observedOpen != expected || (explicit != nil && expected != modelOpen) { passed = false }
            var summary = (resolved.sources.count > 1 ? "from \(source): " : "") + ModelReport.blastRadius(reached)
            let missing = expected.subtracting(observedOpen).map(\.description).sorted()
            let extra = observedOpen.subtracting(expected).map(\.description).sorted()
            if !missing.isEmpty { summary += "; expected open but not: \(missing.joined(separator: " "))" }
            if !extra.isEmpty { summary += "; open but not expected: \(extra.joined(separator: " "))" }
            if explicit != nil, expected != modelOpen { summary += "; the expectation disagrees with the policy model" }
            if !unjudged.isEmpty {
                let open = unjudged.intersection(reached).count
                summary +=
                    "; \(counted(unjudged.count, "connection")) not judged, \(open) of them open (node ports and load-balancer addresses from inside the cluster, ClusterIPs from nodes and externals, hairpin, the lab's router)"
            }
            summaries.append(summary)
        }
        return StepReport(
            step, passed: passed,
            results: results.map(ResultRecord.scan), summary: summaries.joined(separator: "; "))
    }
}
