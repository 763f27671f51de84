import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues

/// One probe of `keycard probe`: what the model says and what the packets did.
struct LiveProbeResult: Encodable {
    var from: String
    var to: String
    var `protocol`: String
    var port: Int
    /// allow or deny.
    var model: String
    /// allow, deny, closed or skipped.
    var observed: String
    var attempts: Int
    var reason: String?
    /// Observed equals the model (closed counts as allow, skipped always agrees).
    var agrees: Bool

    init(cell: ProbeCell, observation: CellObservation) {
        from = cell.from.description
        to = cell.to.description
        self.protocol = cell.port.proto.rawValue
        port = cell.port.port
        model = cell.verdict.decision.rawValue
        observed = observation.observation.rawValue
        attempts = observation.attempts
        reason = observation.reason
        // Closed counts as allow; skipped always agrees, and so does a cell the scenario path does
        // not check (a pod reaching itself through its own Service: the lab's proxy builds no hairpin).
        agrees = cell.expected == .ignored || (observation.observation.networkDecision.map { $0 == cell.verdict.decision } ?? true)
    }
}

/// `keycard probe -o json`.
struct LiveProbeDocument: Encodable {
    var lab: String
    var enforcement: String
    var agrees: Bool
    var results: [LiveProbeResult]
}

extension LiveProbeResult {
    /// `TCP/80`, or `ICMP` (an echo probe has no port), as `ProtocolPort` writes it.
    var portText: String { `protocol` == TransportProtocol.icmp.rawValue ? `protocol` : "\(`protocol`)/\(port)" }
}

/// Per port: the observed truth table, the model's, and where they differ.
struct LiveProbeTable {
    let results: [LiveProbeResult]

    func render() -> String {
        var out: [String] = []
        var ports: [String] = []
        for result in results where !ports.contains(result.portText) { ports.append(result.portText) }
        for port in ports {
            let cells = results.filter { $0.portText == port }
            var rows: [String] = []
            var columns: [String] = []
            for cell in cells {
                if !rows.contains(cell.from) { rows.append(cell.from) }
                if !columns.contains(cell.to) { columns.append(cell.to) }
            }
            var index: [String: LiveProbeResult] = [:]
            for cell in cells { index["\(cell.from) \(cell.to)"] = cell }
            func mark(_ row: Int, _ column: Int, _ pick: (LiveProbeResult) -> Character) -> Character {
                index["\(rows[row]) \(columns[column])"].map(pick) ?? " "
            }
            out.append(
                TruthTableText(title: "\(port) observed", rows: rows, columns: columns) { row, column in
                    mark(row, column) { cell in
                        switch cell.observed {
                        case "deny": "X"
                        case "skipped": "s"
                        default: "."
                        }
                    }
                }.render())
            let wrong = cells.filter { !$0.agrees }
            guard !wrong.isEmpty else { continue }
            out.append(
                TruthTableText(title: "\(port) model", rows: rows, columns: columns) { row, column in
                    mark(row, column) { $0.model == "allow" ? "." : "X" }
                }.render())
            out.append(
                TruthTableText(title: "\(port) wrong", rows: rows, columns: columns) { row, column in
                    mark(row, column) { $0.agrees ? "." : "!" }
                }.render())
            for cell in wrong {
                out.append(
                    "  ! \(cell.from) -> \(cell.to) \(port): model \(cell.model), observed \(cell.observed)"
                        + (cell.reason.map { " (\($0))" } ?? ""))
            }
        }
        return out.joined(separator: "\n")
    }
}
