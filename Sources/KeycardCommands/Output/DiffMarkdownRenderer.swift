import KeycardScenario

/// `keycard diff -o md`: np-guard's Markdown table.
enum DiffMarkdownRenderer {
    static func render(_ rows: [DiffRow]) -> String {
        ([
            "| diff-type | source | destination | dir1 | dir2 | workloads-diff-info |",
            "|-----------|--------|-------------|------|------|---------------------|",
        ]
            + rows.map { row in
                "| \(row.diffType.rawValue) | \(row.source) | \(row.destination) | \(row.dir1) | \(row.dir2) | \(row.workloadsDiffInfo) |"
            }).joined(separator: "\n")
    }
}
