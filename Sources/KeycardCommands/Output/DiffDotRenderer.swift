import KeycardScenario

/// `keycard diff -o dot`: np-guard's colours — peers blue, added edges green (#008000), removed
/// red, changed magenta with the old connections in the label (`new (old: old)`).
enum DiffDotRenderer {
    static func render(_ rows: [DiffRow]) -> String {
        let peers = Set(rows.flatMap { [$0.source, $0.destination] }).sorted()
        var lines = ["digraph {"]
        for peer in peers { lines.append("\t\(quote(peer)) [label=\(quote(peer)) color=\"blue\" fontcolor=\"blue\"]") }
        for row in rows {
            let (label, colour) =
                switch row.diffType {
                case .added: (row.dir2, "#008000")
                case .removed: (row.dir1, "red")
                case .changed: ("\(row.dir2) (old: \(row.dir1))", "magenta")
                }
            lines.append(
                "\t\(quote(row.source)) -> \(quote(row.destination)) [label=\(quote(label)) color=\"\(colour)\" fontcolor=\"\(colour)\"]")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    static func quote(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
}
