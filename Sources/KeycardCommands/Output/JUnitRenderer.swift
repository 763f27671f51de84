import KeycardScenario

/// JUnit XML: one test suite per scenario, one test case per step; a probe step whose every cell
/// was skipped holds `<skipped message="reason"/>` and counts in `skipped`, as the JUnit schema
/// Jenkins and GitLab read it has them. A scenario a run could not finish (`aborted`: an error or
/// a signal ended it before its report) is a test suite of its own with one test case, `run`,
/// holding `<error message="reason"/>`, counted in its `errors` and the run's, as the schema
/// has an error (a test that could not complete) beside a failure.
enum JUnitRenderer {
    static func render(_ reports: [Report], aborted: RunAbort? = nil) -> String {
        var out = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        let steps = reports.flatMap(\.steps)
        let failures = steps.filter { !$0.passed }.count
        let skips = steps.filter { $0.skipReason != nil }.count
        let errors = aborted == nil ? 0 : 1
        out.append(
            "<testsuites name=\"keycard\" tests=\"\(steps.count + errors)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skips)\">"
        )
        for report in reports {
            let failed = report.steps.filter { !$0.passed }.count
            let skipped = report.steps.filter { $0.skipReason != nil }.count
            out.append(
                "  <testsuite name=\"\(escape(report.scenario))\" tests=\"\(report.steps.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"\(skipped)\">"
            )
            out.append("    <properties><property name=\"enforcement\" value=\"\(escape(report.enforcement.rawValue))\"/></properties>")
            for step in report.steps {
                let name = "step \(step.index) \(step.kind)" + (step.name.map { ": \($0)" } ?? "")
                let head = "    <testcase classname=\"\(escape(report.scenario))\" name=\"\(escape(name))\""
                if let reason = step.skipReason {
                    out.append(head + "><skipped message=\"\(escape(reason))\"/></testcase>")
                    continue
                }
                if step.passed {
                    out.append(head + "/>")
                    continue
                }
                out.append(head + ">")
                out.append(
                    "      <failure message=\"\(escape(step.summary ?? "failed"))\">\(escape(details(step), attribute: false))</failure>")
                out.append("    </testcase>")
            }
            out.append("  </testsuite>")
        }
        if let aborted {
            let name = escape(aborted.scenario ?? "keycard")
            out.append("  <testsuite name=\"\(name)\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">")
            out.append("    <testcase classname=\"\(name)\" name=\"run\"><error message=\"\(escape(aborted.reason))\"/></testcase>")
            out.append("  </testsuite>")
        }
        out.append("</testsuites>")
        return out.joined(separator: "\n")
    }

    static func details(_ step: StepReport) -> String {
        (step.results ?? []).compactMap { record -> String? in
            guard case .probe(let result) = record, !result.passed else { return nil }
            return
                "\(result.from) -> \(result.to) \(result.port): expected \(result.expected.rawValue), observed \(result.observed?.rawValue ?? "-"), model \(result.model.rawValue)"
        }.joined(separator: "\n")
    }

    /// `text` as XML 1.0 character data, inside an attribute value (`attribute`, the default) or an
    /// element's content: `&`, `<`, `>`, `"` and `'` as references; a tab, line feed and carriage
    /// return inside an attribute as `&#9;`, `&#10;` and `&#13;`, which attribute-value
    /// normalization keeps (XML 1.0 §3.3.3 turns raw ones into spaces), and a carriage return in
    /// content as `&#13;` (§2.11 would turn it into a line feed); a character XML 1.0 does not
    /// allow (§2.2 `Char`: the C0 controls but tab, line feed and carriage return, U+FFFE, U+FFFF)
    /// as U+FFFD, the replacement character, since no reference can stand for it either.
    static func escape(_ text: String, attribute: Bool = true) -> String {
        TextEscaping.escaped(text) { character in
            if let reference = TextEscaping.markupReference(character) { return reference }
            switch character {
            case "\"": return "&quot;"
            case "'": return "&apos;"
            default: break
            }
            // Scalar by scalar: a carriage return and line feed are one Character.
            let scalars = character.unicodeScalars
            guard scalars.contains(where: { $0.value < 0x20 || $0.value == 0xFFFE || $0.value == 0xFFFF }) else { return nil }
            return scalars.map { scalar -> String in
                switch scalar.value {
                case 0x09: attribute ? "&#9;" : "\t"
                case 0x0A: attribute ? "&#10;" : "\n"
                case 0x0D: "&#13;"
                case 0..<0x20, 0xFFFE, 0xFFFF: "\u{FFFD}"
                default: String(scalar)
                }
            }.joined()
        }
    }
}
