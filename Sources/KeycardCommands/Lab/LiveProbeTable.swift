import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues

/// `keycard probe -o json`: each result is the scenario report's probe cell record (`ProbeResult`,
/// as `keycard run -o json` writes it), the cell's expectation being the model's verdict.
struct LiveProbeDocument: Encodable {
    var lab: String
    var enforcement: String
    /// Every result passed: observed equals the model (closed counts as allow, skipped always agrees).
    var agrees: Bool
    var results: [ProbeResult]
}

/// Per port: the observed truth table, the model's, and where they differ.
struct LiveProbeTable {
    let results: [ProbeResult]

    func render() -> String {
        var out: [String] = []
        var ports: [String] = []
        for result in results where !ports.contains(result.port.description) { ports.append(result.port.description) }
        for port in ports {
            let cells = results.filter { $0.port.description == port }
            var rows: [String] = []
            var columns: [String] = []
            for cell in cells {
                if !rows.contains(cell.from.description) { rows.append(cell.from.description) }
                if !columns.contains(cell.to.description) { columns.append(cell.to.description) }
            }
            var index: [String: ProbeResult] = [:]
            for cell in cells { index["\(cell.from) \(cell.to)"] = cell }
            func mark(_ row: Int, _ column: Int, _ pick: (ProbeResult) -> Character) -> Character {
                index["\(rows[row]) \(columns[column])"].map(pick) ?? " "
            }
            out.append(
                TruthTableText(title: "\(port) observed", rows: rows, columns: columns) { row, column in
                    mark(row, column) { cell in
                        switch cell.observed {
                        case .deny: "X"
                        case .skipped: "s"
                        default: "."
                        }
                    }
                }.render())
            let wrong = cells.filter { !$0.passed }
            guard !wrong.isEmpty else { continue }
            out.append(
                TruthTableText(title: "\(port) model", rows: rows, columns: columns) { row, column in
                    mark(row, column) { $0.model == .allow ? "." : "X" }
                }.render())
            out.append(
                TruthTableText(title: "\(port) wrong", rows: rows, columns: columns) { row, column in
                    mark(row, column) { $0.passed ? "." : "!" }
                }.render())
            for cell in wrong {
                out.append(
                    "  ! \(cell.from) -> \(cell.to) \(port): model \(cell.model.rawValue), observed \(cell.observed?.rawValue ?? "")"
                        + (cell.reason.map { " (\($0))" } ?? ""))
            }
        }
        return out.joined(separator: "\n")
    }
}
