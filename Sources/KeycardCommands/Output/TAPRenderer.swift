import KeycardScenario

/// `keycard run -o tap`: TAP version 14 (https://testanything.org/tap-version-14-specification.html),
/// as netassert writes its results: one test point per step of every scenario, numbered across
/// the run, `ok`/`not ok` with `scenario: step N kind: name` (`# SKIP reason` when every cell of a
/// probe step was skipped, `StepReport.skipReason`); a failing step carries a YAML
/// diagnostic block (`message`, `severity`, the wrong cells) indented two spaces between `---`
/// and `...`. A run that stopped part way (`aborted`: an error or a signal ended a scenario before
/// its report) ends with TAP 14's `Bail out! scenario: reason` after the steps of the scenarios
/// that completed, so a harness fails the run instead of reading the completed ones as all of it.
enum TAPRenderer {
    static func render(_ reports: [Report], aborted: RunAbort? = nil) -> String {
        let total = reports.reduce(0) { $0 + $1.steps.count }
        var out = ["TAP version 14", "1..\(total)"]
        var number = 0
        for report in reports {
            for step in report.steps {
                number += 1
                let description = "\(report.scenario): step \(step.index) \(step.kind.rawValue)" + (step.name.map { ": \($0)" } ?? "")
                // A step that sent nothing is a SKIP directive: "ok", not counted as a proof.
                let directive = step.skipReason.map { " # SKIP \(escape($0))" } ?? ""
                out.append("\(step.passed ? "ok" : "not ok") \(number) - \(escape(description))\(directive)")
                guard !step.passed else { continue }
                out.append("  ---")
                out.append("  message: \(quote(step.summary ?? "failed"))")
                out.append("  severity: fail")
                let wrong = JUnitRenderer.details(step).split(separator: "\n")
                if !wrong.isEmpty {
                    out.append("  cells:")
                    for line in wrong.prefix(50) { out.append("    - \(quote(String(line)))") }
                }
                out.append("  ...")
            }
        }
        if let aborted { out.append("Bail out! \(aborted.text.replacingOccurrences(of: "\n", with: " "))") }
        return out.joined(separator: "\n")
    }

    /// A description may not contain `#` unescaped (it would start a directive).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "#", with: "\\#")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// A YAML double-quoted scalar.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
