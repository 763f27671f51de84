import KeycardScenario

/// `keycard diff -o csv`: np-guard's header and columns; fields with a comma or quote are quoted
/// (RFC 4180).
enum DiffCSVRenderer {
    static let header = "diff-type,source,destination,dir1,dir2,workloads-diff-info"

    static func render(_ rows: [DiffRow]) -> String {
        ([header]
            + rows.map { row in
                [row.diffType.rawValue, row.source, row.destination, row.dir1, row.dir2, row.workloadsDiffInfo].map(field)
                    .joined(separator: ",")
            }).joined(separator: "\n")
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
