import KeycardScenario

/// `keycard diff -o table`: np-guard's `txt` form, one `diff-type: ..., source: ...` line per row;
/// each line ends in a newline; an empty diff is no output at all, as np-guard's CLI prints nothing
/// (`ConnectivityDiffToString`).
enum DiffTextRenderer {
    static func render(_ rows: [DiffRow]) -> String {
        guard !rows.isEmpty else { return "" }
        return
            (["Connectivity diff:"]
            + rows.map { row in
                "diff-type: \(row.diffType.rawValue), source: \(row.source), destination: \(row.destination), dir1: \(row.dir1), dir2: \(row.dir2)"
                    + (row.workloadsDiffInfo.isEmpty ? "" : ", workloads-diff-info: \(row.workloadsDiffInfo)")
            }).joined(separator: "\n") + "\n"
    }
}
