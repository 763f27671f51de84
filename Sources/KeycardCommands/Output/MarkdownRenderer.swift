import KeycardScenario

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
        TextEscaping.escaped(text) { character in
            if let reference = TextEscaping.markupReference(character) { return reference }
            switch character {
            case "\\", "`", "*", "_", "[", "]", "#", "!", "~": return "\\" + String(character)
            case "\n", "\r", "\r\n": return " "
            default: return nil
            }
        }
    }
}
