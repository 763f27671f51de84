import KeycardModel
import KeycardValues

/// Reads a truth table: a header of destinations, then one row per source with a cell each.
///
///     -    x/a x/b
///     x/a  #   .
///     x/b  X   #
enum TruthTableParser {
    static func parse(_ value: YAMLValue, port: ProtocolPort) throws(ScenarioError) -> TruthTable {
        let text = try value.string("the \(port) table")
        let isBlock: Bool
        if case .scalar(let scalar) = value.node { isBlock = scalar.style == .literal || scalar.style == .folded } else { isBlock = false }
        // A block scalar's lines are the file's lines after its indicator. A quoted one's are not:
        // YAML folds its line breaks (a blank line is one, `\n` another), so its errors point at
        // the scalar itself rather than at a line that may hold something else.
        func at(_ lineIndex: Int) -> SourceLocation {
            guard isBlock else { return value.location }
            return SourceLocation(file: value.file, line: value.location.line + 1 + lineIndex, column: value.location.column)
        }
        // `\r\n` is one Character in Swift: split on every line break, not only `\n`.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (index: $0.offset, tokens: $0.element.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)) }
            .filter { !$0.tokens.isEmpty }
        guard let header = lines.first else { throw value.error("the \(port) table is empty") }
        guard header.tokens.count >= 2 else {
            throw ScenarioError(at(header.index), "the \(port) table's header needs a corner token (-) and at least one destination")
        }
        var columns: [ProbeRef] = []
        for token in header.tokens.dropFirst() {
            guard let endpoint = ProbeRef.parse(token) else {
                throw ScenarioError(
                    at(header.index), "table header entry \"\(token)\" must be namespace/name, namespace/kind/name or external/NAME")
            }
            if columns.contains(endpoint) { throw ScenarioError(at(header.index), "destination \(token) appears twice in the header") }
            columns.append(endpoint)
        }
        var rows: [ProbeRef] = []
        var cells: [[TruthTable.Mark]] = []
        for line in lines.dropFirst() {
            let source = line.tokens[0]
            guard let key = ProbeRef.parse(source), key.isSource else {
                throw ScenarioError(
                    at(line.index),
                    "table row \"\(source)\" must start with a source pod (namespace/name), workload (namespace/kind/name), external (external/NAME) or node (node/NAME)"
                )
            }
            if rows.contains(key) { throw ScenarioError(at(line.index), "source \(source) has two rows") }
            guard line.tokens.count - 1 == columns.count else {
                throw ScenarioError(
                    at(line.index), "row \(source) has \(line.tokens.count - 1) cells; the header has \(columns.count) destinations")
            }
            var row: [TruthTable.Mark] = []
            for token in line.tokens.dropFirst() {
                guard token.count == 1, let character = token.first, let mark = TruthTable.Mark(rawValue: character) else {
                    throw ScenarioError(
                        at(line.index),
                        "cell \"\(token)\" in row \(source) must be . (connected), X (blocked), M (refused by mutual TLS), R (refused by authorization) or # (not checked)"
                    )
                }
                row.append(mark)
            }
            rows.append(key)
            cells.append(row)
        }
        if rows.isEmpty { throw ScenarioError(at(header.index), "the \(port) table has a header but no rows") }
        return TruthTable(rows: rows, columns: columns, cells: cells, location: value.location)
    }
}
