import KeycardModel
import KeycardScenario

/// The table output of `keycard run`: per probe step the observed truth table per port — and when
/// something is wrong, the expected one and a comparison marking the wrong cells — then a summary
/// line per step and per file.
struct RunTableRenderer: StepTableRenderer {
    let timeline: Timeline
    let report: Report
    static let showsDescription = false

    func lines(of step: Step, _ stepReport: StepReport) -> [String] {
        let verdict = stepReport.skipReason != nil ? "SKIP" : stepReport.passed ? "PASS" : "FAIL"
        var out = [title(step) + " — \(verdict)" + (stepReport.summary.map { ": \($0)" } ?? "")]
        if case .probe = step.action, let probe = timeline.probes[step.index] {
            out.append(contentsOf: tables(probe, stepReport))
        }
        if case .scan = step.action {
            for case .scan(let result) in stepReport.results ?? [] where result.observed == .open {
                out.append("  open \(result.to ?? result.ip.description):\(result.port) (\(result.ip))")
            }
        }
        return out
    }

    var closing: [String] {
        let passed = report.steps.filter(\.passed).count
        let skipped = report.steps.filter { $0.skipReason != nil }.count
        return [
            "\(timeline.scenario.name): \(report.passed ? "PASSED" : "FAILED") — \(passed) of \(report.steps.count) steps passed"
                + (skipped > 0 ? " (\(skipped) of them skipped: no cell could be probed)" : "")
        ]
    }

    private func tables(_ probe: ResolvedProbe, _ step: StepReport) -> [String] {
        let results = (step.results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        // A Service column holds one result per backend: the table shows a failing one if any, else
        // a refused one (as the model's table: a refused backend speaks for the column), else an
        // answered one, a skipped one (the pod itself behind its Service) last; never the order
        // the backends were probed in.
        func weight(_ result: ProbeResult) -> Int {
            if !result.passed { return 3 }
            if result.observed == .skipped { return 0 }
            return result.observed?.networkDecision == .allow ? 1 : 2
        }
        var index: [String: ProbeResult] = [:]
        // Service columns where one backend answered and another was blocked.
        var reached = Set<String>()
        var blocked = Set<String>()
        for result in results {
            // A column written with its backend (`svc/ns/name>ns/pod`) holds that backend's result.
            let column = probe.destinationRef[result.to] != nil ? result.to : result.to.column
            let key = "\(result.port) \(result.from) \(column)"
            if index[key].map({ weight(result) > weight($0) }) ?? true { index[key] = result }
            if column != result.to, let decision = result.observed?.networkDecision {
                if decision == .allow { reached.insert(key) } else { blocked.insert(key) }
            }
        }
        let split = reached.intersection(blocked)
        let rows = probe.sources.map(\.description)
        let columns = probe.destinations.map(\.description)
        var out: [String] = []
        for port in probe.ports {
            func key(_ row: Int, _ column: Int) -> String { "\(port) \(rows[row]) \(columns[column])" }
            func cell(_ row: Int, _ column: Int) -> ProbeResult? { index[key(row, column)] }
            let portFailed = (0..<rows.count).contains { row in (0..<columns.count).contains { cell(row, $0).map { !$0.passed } ?? false } }
            out.append(
                TruthTableText(title: "\(port) observed", rows: rows, columns: columns) { row, column in
                    guard let result = cell(row, column) else { return NoCell.mark }
                    if rows[row] == columns[column] && result.expected == .ignored { return "#" }
                    // A failing backend speaks for its column (the wrong table marks it).
                    if result.passed, split.contains(key(row, column)) { return SplitService.mark }
                    switch result.observed {
                    case .skipped: return "s"
                    case nil: return "?"
                    case let observed?:
                        guard let decision = observed.networkDecision else { return "?" }
                        return result.implementationDefined == true ? ImplementationDefined.mark(decision) : decision.mark
                    }
                }.render())
            if split.contains(where: { $0.hasPrefix("\(port) ") }) { out.append(SplitService.legend) }
            guard portFailed else { continue }
            out.append(
                TruthTableText(title: "\(port) expected", rows: rows, columns: columns) { row, column in
                    cell(row, column)?.expected.decision?.mark ?? "#"
                }.render())
            out.append(
                TruthTableText(title: "\(port) wrong", rows: rows, columns: columns) { row, column in
                    guard let result = cell(row, column) else { return NoCell.mark }
                    if result.expected == .ignored { return "#" }
                    return result.passed ? "." : "!"
                }.render())
            for result in results where result.port == port && !result.passed {
                do {
                    var line =
                        "  ! \(result.cellDescription): expected \(result.expected.rawValue), observed \(result.observed?.rawValue ?? "nothing"), model \(result.model.rawValue)"
                    if let reason = result.reason { line += " (\(reason))" }
                    out.append(line)
                }
            }
        }
        if results.contains(where: { $0.implementationDefined == true }) { out.append(ImplementationDefined.legend) }
        // Each reason once: SCTP and a hairpin cell are skipped for different reasons.
        var reasons: [String] = []
        // Only the skipped cells a table shows: a pod behind its own Service hides behind its column.
        let shown = index.values.filter { $0.observed == .skipped }
        for result in results where result.observed == .skipped && !reasons.contains(result.reason ?? "") && shown.contains(result) {
            reasons.append(result.reason ?? "")
        }
        if probe.ports.count > 0 { out += reasons.map { "  (s: skipped — \($0))" } }
        let missing = probe.ports.contains { port in
            rows.contains { row in columns.contains { index["\(port) \(row) \($0)"] == nil } }
        }
        if missing { out.append(NoCell.legend) }
        return out
    }
}
