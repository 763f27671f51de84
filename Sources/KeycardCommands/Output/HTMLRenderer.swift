import KeycardScenario

/// `keycard run -o html`: one self-contained HTML page (inline CSS and SVG, no script, no link
/// to anything) that opens in a browser with no network: per scenario its verdict, its steps,
/// the failures with their wrong cells, the observed truth tables, the allowed-connectivity graph
/// after the last step, and every probed flow.
enum HTMLRenderer {
    struct Entry {
        var timeline: Timeline
        var report: Report
        /// `dot -Tsvg` of the scenario's graph, or why there is none.
        var graph: Result<String, Error>
    }

    /// At most this many flows per scenario (a manifests run can probe tens of thousands).
    static let flowLimit = 5000

    /// `aborted`: the run stopped part way (`RunAbort`), so the page is not PASSED even when
    /// every scenario it holds passed, or it holds none.
    static func render(_ entries: [Entry], aborted: Bool = false) -> String {
        let passed = !aborted && entries.allSatisfy(\.report.passed)
        var html = [
            "<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
            "<title>keycard report: \(passed ? "PASSED" : "FAILED")</title>", "<style>\(style)</style>", "</head>", "<body>",
            "<h1>keycard report <span class=\"\(passed ? "pass" : "fail")\">\(passed ? "PASSED" : "FAILED")</span></h1>",
        ]
        for (index, entry) in entries.enumerated() { html += section(entry, idPrefix: "s\(index + 1)-") }
        html += ["</body>", "</html>"]
        return html.joined(separator: "\n")
    }

    /// One scenario's part of the page; `idPrefix` goes before every element id of its graph.
    static func section(_ entry: Entry, idPrefix: String) -> [String] {
        let report = entry.report
        let scenario = entry.timeline.scenario
        let stepsPassed = report.steps.filter(\.passed).count
        var out = [
            "<section>",
            "<h2>\(escape(report.scenario)) <span class=\"\(report.passed ? "pass" : "fail")\">\(report.passed ? "PASSED" : "FAILED")</span></h2>",
            "<p class=\"meta\">\(escape(scenario.file)) · enforcement \(report.enforcement.rawValue) · \(stepsPassed) of \(report.steps.count) steps passed</p>",
        ]
        if let description = scenario.description { out.append("<p>\(escape(description))</p>") }
        out.append("<h3>Steps</h3>")
        out.append("<table><tr><th>#</th><th>kind</th><th>name</th><th>result</th><th>summary</th></tr>")
        for step in report.steps {
            out.append(
                "<tr><td>\(step.index)</td><td>\(step.kind.rawValue)</td><td>\(escape(step.name ?? ""))</td>"
                    + "<td class=\"\(step.passed ? "pass" : "fail")\">\(step.skipReason != nil ? "SKIP" : step.passed ? "PASS" : "FAIL")</td><td>\(escape(step.summary ?? ""))</td></tr>"
            )
        }
        out.append("</table>")
        let failed = report.steps.filter { !$0.passed }
        out.append("<h3>Failures</h3>")
        if failed.isEmpty {
            out.append("<p>None: every step is as expected.</p>")
        } else {
            for step in failed {
                out.append(
                    "<div class=\"failure\"><b>step \(step.index) \(step.kind.rawValue)\(escape(step.name.map { ": \($0)" } ?? ""))</b>")
                out.append("<p>\(escape(step.summary ?? "failed"))</p>")
                let details = JUnitRenderer.details(step)
                if !details.isEmpty { out.append("<pre>\(escape(details))</pre>") }
                out.append("</div>")
            }
        }
        out.append("<h3>Graph after the last step</h3>")
        switch entry.graph {
        case .success(let svg):
            out.append("<p class=\"meta\">Green: allowed, with ports. Dashed light red: probed and denied.</p>")
            out.append("<div class=\"graph\">\(inlineSVG(svg, idPrefix: idPrefix))</div>")
        case .failure(let error): out.append("<p>No graph: \(escape("\(error)"))</p>")
        }
        out.append("<h3>Matrices</h3>")
        out.append("<pre>\(escape(RunTableRenderer(timeline: entry.timeline, report: report).render()))</pre>")
        out.append("<h3>Flows</h3>")
        out += flows(report)
        out.append("</section>")
        return out
    }

    static func flows(_ report: Report) -> [String] {
        var rows: [String] = []
        var count = 0
        for step in report.steps {
            for case .probe(let result) in step.results ?? [] {
                count += 1
                guard count <= flowLimit else { continue }
                rows.append(
                    "<tr class=\"\(result.passed ? "" : "wrong")\"><td>\(step.index)</td><td>\(escape(result.from.description))</td><td>\(escape(result.to.description))</td>"
                        + "<td>\(result.port)</td><td>\(result.expected.rawValue)</td><td>\(result.model.rawValue)</td><td>\(result.observed?.rawValue ?? "-")</td></tr>"
                )
            }
        }
        guard count > 0 else { return ["<p>No probe step.</p>"] }
        return [
            "<p class=\"meta\">\(count) probed flows\(count > flowLimit ? ", the first \(flowLimit) shown" : "").</p>",
            "<table><tr><th>step</th><th>from</th><th>to</th><th>port</th><th>expected</th><th>model</th><th>observed</th></tr>",
        ] + rows + ["</table>"]
    }

    /// The SVG element alone (no XML prolog or doctype), scaled to the page's width, with
    /// `idPrefix` before each of its element ids and before every reference to one (`url(#…)`,
    /// `href="#…"`, `xlink:href="#…"`): Graphviz numbers every graph's elements alike (`graph0`,
    /// `node1`, `edge1`), and an id must be unique in the whole page (HTML Living Standard, "The id
    /// attribute"), so each scenario's graph gets its own prefix.
    static func inlineSVG(_ svg: String, idPrefix: String) -> String {
        guard let start = svg.range(of: "<svg") else { return "" }
        var element = String(svg[start.lowerBound...])
        let ids = Set(element.matches(of: /\sid="([^"]*)"/).map { String($0.output.1) })
        guard !ids.isEmpty else { return element }
        element.replace(/(\sid="|href="#|url\(#|url\('#|url\("#)([^"')]*)/) { match in
            let (_, opening, name) = match.output
            return ids.contains(String(name)) ? "\(opening)\(idPrefix)\(name)" : "\(opening)\(name)"
        }
        return element
    }

    static func escape(_ text: String) -> String {
        TextEscaping.escaped(text) { TextEscaping.markupReference($0) ?? ($0 == "\"" ? "&quot;" : nil) }
    }

    static let style = """
        body{font-family:"DejaVu Sans",sans-serif;margin:24px;color:#1f2328;background:#fff}
        h1{font-size:24px}h2{font-size:20px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:16px;margin-top:20px}
        .pass{color:#1a7f37}.fail{color:#cf222e}.meta{color:#59636e;font-size:13px}
        table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #d0d7de;padding:2px 8px;text-align:left}
        th{background:#f6f8fa}tr.wrong td{background:#ffebe9}
        pre{background:#f6f8fa;padding:8px;font-size:12px;overflow-x:auto}
        .failure{border-left:4px solid #cf222e;padding-left:8px;margin:8px 0}
        .graph svg{max-width:100%;height:auto}
        """
}
