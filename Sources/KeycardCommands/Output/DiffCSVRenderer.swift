import KeycardScenario

/// `keycard diff -o csv`: np-guard's header and columns; fields with a comma or quote are quoted
/// (RFC 4180, as Go's `encoding/csv` writes them), each record ending in a newline; an empty diff is no output at all, not even the
/// header, as np-guard's CLI prints nothing for it.
enum DiffCSVRenderer {
    static let header = "diff-type,source,destination,dir1,dir2,workloads-diff-info"

    static func render(_ rows: [DiffRow]) -> String {
        guard !rows.isEmpty else { return "" }
        return
            ([header]
            + rows.map { row in
                [row.diffType.rawValue, row.source, row.destination, row.dir1, row.dir2, row.workloadsDiffInfo].map(field)
                    .joined(separator: ",")
            }).joined(separator: "\n") + "\n"
    }

    static func field(_ text: String) -> String {
        // Go's `fieldNeedsQuotes`: a comma, quote, CR or LF anywhere, or a leading space.
        let leadingSpace = text.first.map { $0 == " " || $0 == "\t" } ?? false
        guard leadingSpace || text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
