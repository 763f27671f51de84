import KeycardModel

/// Lays out a truth table in the scenario format (so it can be pasted back as an expectation):
/// a corner `-`, destinations across, one row per source, one character per cell.
struct TruthTableText {
    var title: String
    var rows: [String]
    var columns: [String]
    /// The cell for (row, column).
    var cell: (Int, Int) -> Character

    func render(indent: String = "  ") -> String {
        let corner = title
        let firstWidth = max(corner.count, rows.map(\.count).max() ?? 0)
        let widths = columns.map { max($0.count, 1) }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = [
            indent
                + ([pad(corner, firstWidth)] + columns.enumerated().map { pad($0.element, widths[$0.offset]) })
                .joined(separator: "  ").trimmedRight()
        ]
        for (rowIndex, row) in rows.enumerated() {
            let cells = columns.indices.map { pad(String(cell(rowIndex, $0)), widths[$0]) }
            lines.append(indent + ([pad(row, firstWidth)] + cells).joined(separator: "  ").trimmedRight())
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmedRight() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

extension Decision {
    /// The truth-table symbol of an outcome (spec mesh.md 2.6): `.` allow, `X` deny (network), `M`
    /// deny-mtls, `R` deny-rbac.
    var mark: Character {
        switch self {
        case .allow: "."
        case .deny: "X"
        case .denyMTLS: "M"
        case .denyRBAC: "R"
        }
    }
}
