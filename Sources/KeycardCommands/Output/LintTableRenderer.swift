import KeycardScenario

/// `keycard lint -o table`: one `file:line:col: severity: [rule] message (state)` line per
/// finding (the form editors and CI annotate), then a count by severity.
enum LintTableRenderer {
    static func render(_ report: LintReport) -> String {
        var lines = report.findings.map { finding in
            "\(finding.location): \(finding.severity.rawValue): [\(finding.rule)] \(finding.message) (\(finding.state))"
        }
        let counts = LintSeverity.allCases.reversed().map { severity in
            "\(report.findings.filter { $0.severity == severity }.count) \(severity.rawValue)s"
        }
        lines.append("\(report.findings.count) finding\(report.findings.count == 1 ? "" : "s"): \(counts.joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}
