import Foundation
import KeycardTestSupport
import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// The review outputs whose users read them field for field: np-guard netpol-analyzer's diff
/// graph and its empty diff, SARIF's column unit, and Markdown as GitHub renders it.
@Suite struct ReviewFormatTests {
    /// OLD: in `a-b` every pod is isolated for ingress and y admits x on TCP 80; c/v and c/z are
    /// open. NEW: y admits x on 80 and 81, c/z is gone and c/w is new.
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: dot}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a-b}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: c}}
            - {apiVersion: v1, kind: Pod, metadata: {name: x, namespace: a-b, labels: {app: x}}, spec: {containers: [{name: c, image: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: y, namespace: a-b, labels: {app: y}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}, {containerPort: 81}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: v, namespace: c, labels: {app: v}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 90}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: z, namespace: c, labels: {app: z}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: a-b}, spec: {podSelector: {}, policyTypes: [Ingress]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: y, namespace: a-b}, spec: {podSelector: {matchLabels: {app: y}}, ingress: [{from: [{podSelector: {matchLabels: {app: x}}}], ports: [{port: 80}]}]}}
          steps:
            - apply:
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: y, namespace: a-b}, spec: {podSelector: {matchLabels: {app: y}}, ingress: [{from: [{podSelector: {matchLabels: {app: x}}}], ports: [{port: 80}, {port: 81}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: w, namespace: c, labels: {app: w}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
            - delete: [{kind: Pod, namespace: c, name: z}]
        """

    static func diff() throws -> DiffResult {
        let timeline = try ScenarioLoader.parseTimeline(scenario, file: "dot.yaml")
        return ConnectivityDiff.result(old: timeline, afterStep: 0, new: timeline, afterStep: 2)
    }

    /// np-guard's diff graph, line for line (`diff_formatter_dot.go`): namespace subgraphs with
    /// `name[Kind]` labels, new peers green and lost ones red, unchanged edges grey, changed ones
    /// magenta with the CLI's `dir1` name, removed `red2`, every edge weighted, then the legend.
    @Test func dotIsNpGuardsDiffGraph() throws {
        let expected = """
            digraph {
            \tsubgraph "cluster_a_b[namespace]" {
            \t\tcolor="black"
            \t\tfontcolor="black"
            \t\t"a-b/x[Pod]" [label="x[Pod]" color="blue" fontcolor="blue"]
            \t\t"a-b/y[Pod]" [label="y[Pod]" color="blue" fontcolor="blue"]
            \t\tlabel="a-b[namespace]"
            \t}
            \tsubgraph "cluster_c[namespace]" {
            \t\tcolor="black"
            \t\tfontcolor="black"
            \t\t"c/v[Pod]" [label="v[Pod]" color="blue" fontcolor="blue"]
            \t\t"c/w[Pod]" [label="w[Pod]" color="#008000" fontcolor="#008000"]
            \t\t"c/z[Pod]" [label="z[Pod]" color="red" fontcolor="red"]
            \t\tlabel="c[namespace]"
            \t}
            \t"0.0.0.0-255.255.255.255[External]" [label="0.0.0.0-255.255.255.255[External]" color="blue" fontcolor="blue"]
            \t"0.0.0.0-255.255.255.255[External]" -> "c/v[Pod]" [label="TCP 90" color="grey" fontcolor="grey" weight=0.5]
            \t"0.0.0.0-255.255.255.255[External]" -> "c/w[Pod]" [label="TCP 80" color="#008000" fontcolor="#008000" weight=0.5]
            \t"0.0.0.0-255.255.255.255[External]" -> "c/z[Pod]" [label="TCP 80" color="red2" fontcolor="red2" weight=0.5]
            \t"a-b/x[Pod]" -> "0.0.0.0-255.255.255.255[External]" [label="TCP 80-81,90" color="grey" fontcolor="grey" weight=1]
            \t"a-b/x[Pod]" -> "a-b/y[Pod]" [label="TCP 80-81 (dir1: TCP 80)" color="magenta" fontcolor="magenta" weight=0.5]
            \t"a-b/x[Pod]" -> "c/v[Pod]" [label="TCP 90" color="grey" fontcolor="grey" weight=0.5]
            \t"a-b/x[Pod]" -> "c/w[Pod]" [label="TCP 80" color="#008000" fontcolor="#008000" weight=0.5]
            \t"a-b/x[Pod]" -> "c/z[Pod]" [label="TCP 80" color="red2" fontcolor="red2" weight=0.5]
            \t"a-b/y[Pod]" -> "0.0.0.0-255.255.255.255[External]" [label="TCP 80-81,90" color="grey" fontcolor="grey" weight=1]
            \t"a-b/y[Pod]" -> "c/v[Pod]" [label="TCP 90" color="grey" fontcolor="grey" weight=0.5]
            \t"a-b/y[Pod]" -> "c/w[Pod]" [label="TCP 80" color="#008000" fontcolor="#008000" weight=0.5]
            \t"a-b/y[Pod]" -> "c/z[Pod]" [label="TCP 80" color="red2" fontcolor="red2" weight=0.5]
            \t"c/v[Pod]" -> "0.0.0.0-255.255.255.255[External]" [label="TCP 80-81,90" color="grey" fontcolor="grey" weight=1]
            \t"c/v[Pod]" -> "c/w[Pod]" [label="TCP 80" color="#008000" fontcolor="#008000" weight=0.5]
            \t"c/v[Pod]" -> "c/z[Pod]" [label="TCP 80" color="red2" fontcolor="red2" weight=0.5]
            \t"c/w[Pod]" -> "0.0.0.0-255.255.255.255[External]" [label="TCP 80-81,90" color="#008000" fontcolor="#008000" weight=1]
            \t"c/w[Pod]" -> "c/v[Pod]" [label="TCP 90" color="#008000" fontcolor="#008000" weight=1]
            \t"c/z[Pod]" -> "0.0.0.0-255.255.255.255[External]" [label="TCP 80-81,90" color="red2" fontcolor="red2" weight=1]
            \t"c/z[Pod]" -> "c/v[Pod]" [label="TCP 90" color="red2" fontcolor="red2" weight=1]
            \tnewrank=true
            \tnodesep=0.5
            \tsubgraph cluster_legend {
            \t\tlabel="Legend"
            \t\tfontsize = 10
            \t\tmargin=0
            \t\ta [style=invis height=0 width=0]
            \t\tb [style=invis height=0 width=0]
            \t\tc [style=invis height=0 width=0]
            \t\td [style=invis height=0 width=0]
            \t\te [style=invis height=0 width=0]
            \t\tf [style=invis height=0 width=0]
            \t\tg [style=invis height=0 width=0]
            \t\th [style=invis height=0 width=0]
            \t\t{rank=source a b c d}
            \t\t{rank=same e f g h}
            \t\ta -> b [label="added connection", color="#008000" fontcolor="#008000" fontsize = 10 arrowsize=0.2]
            \t\tc -> d [label="removed connection", color="red2" fontcolor="red2" fontsize = 10 arrowsize=0.2]
            \t\te -> f [label="changed connection", color="magenta" fontcolor="magenta" fontsize = 10 arrowsize=0.2]
            \t\tg -> h [label="unchanged connection", color="grey" fontcolor="grey" fontsize = 10 arrowsize=0.2]
            \t\tnp [label="new peer" color="#008000" fontcolor="#008000" fontsize = 10]
            \t\tlp [label="lost peer" color="red" fontcolor="red" fontsize = 10]
            \t\tpp [label="persistent peer" color="blue" fontcolor="blue" fontsize = 10]
            \t\t{rank=sink np lp pp}
            \t\tnp->lp [style=invis]
            \t\tlp->pp [style=invis]
            \t}
            }
            """
        let rendered = DiffDotRenderer.render(try Self.diff())
        #expect(rendered == expected, "\(rendered)")
        #expect(DiffDotRenderer.render(try Self.diff(), dir1Name: "ref1").contains("label=\"TCP 80-81 (ref1: TCP 80)\""))
    }

    /// np-guard's CLI prints nothing for an empty diff (`ConnectivityDiffToString` returns ""), in
    /// every format: no header, no empty graph.
    @Test func emptyDiffIsNoOutput() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "dot.yaml")
        let none = ConnectivityDiff.result(old: timeline, afterStep: 1, new: timeline, afterStep: 1)
        #expect(none.rows.isEmpty && !none.unchanged.isEmpty)
        #expect(DiffTextRenderer.render(none.rows) == "")
        #expect(DiffCSVRenderer.render(none.rows) == "")
        #expect(DiffMarkdownRenderer.render(none.rows) == "")
        #expect(DiffDotRenderer.render(none) == "")
        let some = try Self.diff()
        #expect(DiffCSVRenderer.render(some.rows).hasPrefix(DiffCSVRenderer.header + "\n"))
        #expect(DiffTextRenderer.render(some.rows).hasPrefix("Connectivity diff:\n"))
        // np-guard's last bytes: txt and csv end in a newline, md and dot do not.
        #expect(DiffTextRenderer.render(some.rows).hasSuffix("workload c/z[Pod] removed\n"))
        #expect(DiffCSVRenderer.render(some.rows).hasSuffix("workload c/z[Pod] removed\n"))
        #expect(DiffMarkdownRenderer.render(some.rows).hasSuffix("workload c/z[Pod] removed |"))
        #expect(DiffDotRenderer.render(some).hasSuffix("\t}\n}"))
    }

    /// SARIF §3.14.27: the run says its columns count Unicode code points, and they do: the
    /// finding after a flag emoji (two code points, four UTF-16 units) is at its code-point column.
    @Test func sarifColumnsAreCodePoints() throws {
        let line =
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: ns, annotations: {d: \"🇫🇷\"}}, spec: {podSelector: {}, ingress: [{}], policyTypes: [Egress]}}"
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: ns}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: ns, labels: {app: x}}
            spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
            ---
            \(line)
            """
        let path = NSTemporaryDirectory() + "keycard-sarif-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let timelines = try ScenarioInput.loadAll([path], namespace: nil, cellLimit: .warn)
        let findings = PolicyLinter.lint(try #require(timelines.first))
        let finding = try #require(findings.first { $0.rule == "rules-outside-policy-types" && $0.line == 10 }, "\(findings)")
        let scalars = Array(line.unicodeScalars)
        // The finding points at the ingress rules' value, `[{}]`.
        let value = Array("[{}]".unicodeScalars)
        let at = try #require((0..<scalars.count).first { Array(scalars[$0..<min($0 + value.count, scalars.count)]) == value })
        #expect(finding.column == at + 1)
        #expect(line.utf16.count != scalars.count)
        let log = try #require(
            try JSONSerialization.jsonObject(with: Data(SarifRenderer.render(LintReport(inputs: [path], findings: findings)).utf8))
                as? [String: Any])
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.map { $0["columnKind"] as? String } == ["unicodeCodePoints"])
    }

    /// `run -o markdown`: what a step's name or a cell holds is text on GitHub, never HTML or
    /// Markdown syntax; a pipe does not split the table's cell.
    @Test func markdownEscapesFreeText() {
        let step = StepReport(
            index: 1, name: "<img src=x onerror=alert(1)> a|b *c* & [d](e)", kind: .probe, passed: true,
            summary: "1 cell <b>ok</b>")
        let report = Report(scenario: "s`q", enforcement: .pod, passed: true, steps: [step])
        let markdown = MarkdownRenderer.render([report])
        #expect(markdown.contains("### keycard: ``s`q`` (pod enforcement)"), "\(markdown)")
        #expect(
            markdown.contains(
                "| 1 | probe | &lt;img src=x onerror=alert(1)&gt; a\\|b \\*c\\* &amp; \\[d\\](e) | ✅ | 1 cell &lt;b&gt;ok&lt;/b&gt; |"),
            "\(markdown)")
        #expect(!markdown.contains("<img") && !markdown.contains("<b>"))
    }
}
