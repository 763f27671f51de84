import KeycardScenario

/// `keycard diff -o md`: np-guard's Markdown table, no newline after its last line; an empty diff is no output at all, not even the
/// header, as np-guard's CLI prints nothing for it.
enum DiffMarkdownRenderer {
    static func render(_ rows: [DiffRow]) -> String {
        guard !rows.isEmpty else { return "" }
        return
            ([
                "| diff-type | source | destination | dir1 | dir2 | workloads-diff-info |",
                "|-----------|--------|-------------|------|------|---------------------|",
            ]
            + rows.map { row in
                "| \(row.diffType.rawValue) | \(row.source) | \(row.destination) | \(row.dir1) | \(row.dir2) | \(row.workloadsDiffInfo) |"
            }).joined(separator: "\n")
    }
}
