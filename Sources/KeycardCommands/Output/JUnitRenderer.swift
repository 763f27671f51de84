import KeycardScenario

/// JUnit XML: one test suite per scenario, one test case per step; a probe step whose every cell
/// was skipped holds `<skipped message="reason"/>` and counts in `skipped`, as the JUnit schema
/// Jenkins and GitLab read it has them.
enum JUnitRenderer {
    static func render(_ reports: [Report]) -> String {
        var out = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        let steps = reports.flatMap(\.steps)
        let failures = steps.filter { !$0.passed }.count
        let skips = steps.filter { $0.skipReason != nil }.count
        out.append("<testsuites name=\"keycard\" tests=\"\(steps.count)\" failures=\"\(failures)\" skipped=\"\(skips)\">")
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
                out.append("      <failure message=\"\(escape(step.summary ?? "failed"))\">\(escape(details(step)))</failure>")
                out.append("    </testcase>")
            }
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

    static func escape(_ text: String) -> String {
        TextEscaping.escaped(text) { character in
            if let reference = TextEscaping.markupReference(character) { return reference }
            switch character {
            case "\"": return "&quot;"
            case "'": return "&apos;"
            default:
                // XML 1.0 forbids most control characters.
                if let ascii = character.asciiValue, ascii < 0x20, ascii != 0x09, ascii != 0x0A, ascii != 0x0D { return "" }
                return nil
            }
        }
    }
}
