import KeycardModel
import KeycardScenario

/// The table output of `keycard model`: per probe step, the model's truth table per port; where
/// something is blocked, which side blocks it; where the file disagrees, the cells.
struct ModelTableRenderer: StepTableRenderer {
    let timeline: Timeline
    let report: Report
    /// Each probe step's cells (`Timeline.probeCells()`), the ones the report was built from.
    let probeCells: [Int: [ProbeCell]]
    static let showsDescription = true

    func lines(of step: Step, _ stepReport: StepReport) -> [String] {
        var out = ["", title(step)]
        switch step.action {
        case .probe:
            out.append(contentsOf: probe(step))
        case .scan(let scan):
            out.append(contentsOf: self.scan(step, scan, stepReport))
        case .apply(let objects):
            out.append(contentsOf: objects.map { "  apply \($0.object.ref)" })
            let after = timeline.cluster(afterStep: step.index)
            for case .service(let service) in objects.map(\.object) {
                if let text = after.services[service.key]?.exposureText { out.append("    " + text) }
            }
        case .delete(let targets):
            out.append(contentsOf: targets.map { "  delete \($0.ref)" })
        case .dns:
            out.append("  " + (stepReport.summary ?? ""))
        case .rotate(let rotation):
            out.append("  rotate \(rotation.description): verdicts unchanged (identities stay, certificates are new)")
        case .scale(let change):
            out.append("  scale \(change.workload) to \(change.replicas) replica\(change.replicas == 1 ? "" : "s")")
        case .label(let change):
            let labels = change.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            out.append("  label \(change.ref): \(labels.isEmpty ? "(none)" : labels)")
        }
        return out
    }

    var closing: [String] {
        [
            "",
            report.passed
                ? "model: every explicit expectation agrees with the policy model"
                : "model: some explicit expectations DISAGREE with the policy model (exit 1)",
        ]
    }

    /// Each item's first index, and for every position the first index of its item (a row or
    /// column listed twice shows the cells of its first place).
    private static func firstPlaces<Item: Hashable>(_ items: [Item]) -> (first: [Item: Int], places: [Int]) {
        var first: [Item: Int] = [:]
        let places = items.indices.map { index in
            if let known = first[items[index]] { return known }
            first[items[index]] = index
            return index
        }
        return (first, places)
    }

    private func probe(_ step: Step) -> [String] {
        guard let probe = timeline.probes[step.index] else { return [] }
        let cells = probeCells[step.index] ?? []
        var out: [String] = []
        var disagreements: [String] = []
        var explainedWhy = false
        // Table positions by value, not by name: a probe of a thousand pods has a million cells.
        let (rowOf, rowPlace) = Self.firstPlaces(probe.sources)
        let (columnOf, columnPlace) = Self.firstPlaces(probe.destinations)
        // Grouped once: filtering every cell per port made a 4,000-port probe quadratic.
        let cellsByPort = Dictionary(grouping: cells, by: \.port)
        for port in probe.ports {
            let portCells = cellsByPort[port] ?? []
            // A Service column holds one cell per backend: a refused one (network or mesh) speaks for
            // the column. nil: a Service without this port (a probe over several destinations).
            // A backend that is the source itself speaks last: the column is about the others.
            func weight(_ cell: ProbeCell) -> Int {
                if cell.outcome != .allow && cell.unjudgedReason == nil { return 2 }
                if case .service(_, let backend?) = cell.to, backend == cell.from { return 0 }
                return 1
            }
            var grid = [ProbeCell?](repeating: nil, count: probe.sources.count * probe.destinations.count)
            // Service columns where one backend answers and another is blocked.
            var split = Set<Int>()
            var reached = Set<Int>()
            var blocked = Set<Int>()
            for cell in portCells {
                guard let row = rowOf[cell.from], let column = columnOf[cell.to] ?? columnOf[cell.to.column] else { continue }
                let index = row * probe.destinations.count + column
                if grid[index].map({ weight(cell) > weight($0) }) ?? true { grid[index] = cell }
                // A pod behind its own Service (hairpin) is judged by the model only, as run skips it.
                let hairpin: Bool = if case .service(_, let backend?) = cell.to { backend == cell.from } else { false }
                if cell.to.serviceKey != nil, columnOf[cell.to] == nil, cell.unjudgedReason == nil, !hairpin {
                    if cell.outcome == .allow { reached.insert(index) } else { blocked.insert(index) }
                }
            }
            split = reached.intersection(blocked)
            func place(_ row: Int, _ column: Int) -> Int { rowPlace[row] * probe.destinations.count + columnPlace[column] }
            func at(_ row: Int, _ column: Int) -> ProbeCell? { grid[place(row, column)] }
            let table = TruthTableText(
                title: port.description, rows: probe.sources.map(\.description),
                columns: probe.destinations.map(\.description)
            ) { row, column in
                guard let cell = at(row, column) else { return NoCell.mark }
                if case .pod(let key) = cell.to, key == cell.from { return "#" }
                if cell.unjudgedReason != nil { return "s" }
                if split.contains(place(row, column)) { return SplitService.mark }
                return cell.verdict.implementationDefined ? ImplementationDefined.mark(cell.outcome) : cell.outcome.mark
            }
            out.append(table.render())
            if !split.isEmpty { out.append(SplitService.legend) }
            if portCells.contains(where: { $0.verdict.implementationDefined }) { out.append(ImplementationDefined.legend) }
            if grid.contains(where: { $0 == nil }) { out.append(NoCell.legend) }
            // Each reason once, as run's table gives its skipped cells.
            var unjudged: [String] = []
            for reason in portCells.compactMap(\.unjudgedReason) where !unjudged.contains(reason) { unjudged.append(reason) }
            out += unjudged.map { "  (s: not judged — \($0))" }
            if portCells.contains(where: { $0.outcome != .allow && $0.unjudgedReason == nil }) {
                let why = TruthTableText(
                    title: "why", rows: probe.sources.map(\.description),
                    columns: probe.destinations.map(\.description)
                ) { row, column in
                    guard let cell = at(row, column) else { return NoCell.mark }
                    if cell.unjudgedReason != nil { return "s" }
                    let verdict = cell.verdict
                    // A pod to itself, unless a tier (a ClusterNetworkPolicy) decides one side; as
                    // the table marks it (a pod behind its own Service is a backend of a column).
                    if case .pod(let key) = cell.to, key == cell.from, verdict.egress.outcome == .selfTraffic,
                        verdict.ingress.outcome == .selfTraffic
                    {
                        return "#"
                    }
                    if verdict.decision == .allow { return at(row, column)?.outcome.mark ?? "-" }
                    // What explain says "no policy: ..." for: not a block by both sides.
                    if verdict.hasNoPath { return "N" }
                    switch (verdict.egress.permits, verdict.ingress.permits) {
                    case (true, true): return "."
                    case (false, true): return "E"
                    case (true, false): return "I"
                    case (false, false): return "B"
                    }
                }
                out.append(why.render())
                explainedWhy = true
            }
            for cell in portCells {
                guard case .explicit(let expected) = cell.expected, expected != cell.outcome else { continue }
                // Named as `run` names it: a replica's share of a workload cell names the workload cell.
                disagreements.append(
                    "  ! \(cell.result().cellDescription): the file expects \(expected.rawValue), the model says \(cell.outcome.rawValue)"
                )
            }
        }
        if explainedWhy {
            out.append(
                "  (why: E the source's egress blocks it, I the destination's ingress, B both; N no path, no policy decides it (a Service port without endpoints, or an endpoint a traffic policy's Local keeps away); M mutual TLS refuses it, R an AuthorizationPolicy; # a pod reaching itself, not checked)"
            )
        }
        return out + disagreements
    }

    private func scan(_ step: Step, _ scan: ScanStep, _ report: StepReport) -> [String] {
        var out: [String] = []
        out.append("  scan from \(scan.from) over \(scan.targets), ports \(scan.ports.map(String.init).joined(separator: ","))")
        let sources = timeline.scans[step.index]?.sources ?? []
        for source in sources {
            if sources.count > 1 { out.append("  from \(source):") }
            let open = timeline.scanTargets(ofStep: step.index, from: source, scan).filter { $0.model == .open }
            for target in open { out.append("  open \(ModelReport.scanEndpoint(target.endpoint, target.ip, target.port)) (\(target.ip))") }
        }
        if let summary = report.summary { out.append("  " + summary) }
        if let expected = scan.expectOpen, !report.passed {
            out.append("  ! the file expects open: \(expected.map(\.description).sorted().joined(separator: " "))")
        }
        return out
    }
}
