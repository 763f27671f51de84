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
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters.
                if let ascii = character.asciiValue, ascii < 0x20, ascii != 0x09, ascii != 0x0A, ascii != 0x0D { continue }
                out.append(character)
            }
        }
        return out
    }
}

/// Markdown for pull requests: a table of steps, then the wrong cells. Free text (step names,
/// summaries, cells) is escaped for GitHub Flavored Markdown (`text(_:)`); the scenario's name is
/// a code span (`codeSpan(_:)`).
enum MarkdownRenderer {
    static func render(_ reports: [Report]) -> String {
        var out: [String] = []
        for report in reports {
            out.append(
                "### keycard: \(codeSpan(report.scenario)) (\(report.enforcement) enforcement) — \(report.passed ? "passed" : "**failed**")"
            )
            out.append("")
            out.append("| step | kind | name | result | summary |")
            out.append("|---|---|---|---|---|")
            for step in report.steps {
                out.append(
                    "| \(step.index) | \(step.kind) | \(cell(step.name ?? "")) | \(step.skipReason != nil ? "⏭️ skipped" : step.passed ? "✅" : "❌") | \(cell(step.summary ?? "")) |"
                )
            }
            let wrong = report.steps.filter { !$0.passed }.map(JUnitRenderer.details).filter { !$0.isEmpty }
            if !wrong.isEmpty {
                out.append("")
                out.append("Wrong cells:")
                out.append("")
                for lines in wrong { for line in lines.split(separator: "\n") { out.append("- \(text(String(line)))") } }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// Text in a table cell: `text(_:)`, with `|` escaped (GFM tables split cells on an unescaped
    /// pipe, even inside code spans).
    static func cell(_ text: String) -> String { Self.text(text).replacingOccurrences(of: "|", with: "\\|") }

    /// A code span (CommonMark §6.1) holding `text` verbatim: HTML is not interpreted inside one;
    /// its fence is one backtick longer than the longest run of backticks in the text, padded with
    /// spaces when the text begins or ends with one.
    static func codeSpan(_ text: String) -> String {
        var longest = 0
        var run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        let padded = flat.hasPrefix("`") || flat.hasSuffix("`") ? " \(flat) " : flat
        return fence + padded + fence
    }

    /// Free text for GitHub Flavored Markdown: `&`, `<` and `>` as character references (GitHub
    /// renders raw HTML tags and entities), the ASCII punctuation that opens Markdown syntax
    /// (backslash, backtick, `*`, `_`, `[`, `]`, `#`, `!`, `~`) backslash-escaped (CommonMark
    /// §2.4), line breaks as spaces.
    static func text(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "#", "!", "~": out += "\\" + String(character)
            case "\n", "\r", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
