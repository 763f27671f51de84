import Foundation
import KeycardTestSupport
import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// Every picture keycard writes for the library's scenarios is laid out by the installed Graphviz
/// (Debian's `dot`): `keycard graph FILE` and `keycard diff FILE@0 FILE -o dot`, each through
/// `dot -Tsvg`. Graphviz's default ranking fails some of them ("trouble in init_rank": the
/// node-peers ClusterNetworkPolicy graph, diffs of meshed scenarios beside np-guard's legend).
@Suite struct GraphvizRenderTests {
    init() throws {
        try #require(
            Graphviz.paths.contains { FileManager.default.isExecutableFile(atPath: $0) }, "graphviz is not installed (scripts/setup)")
    }

    /// Why `dot -Tsvg` did not lay `source` out, or nil when it made an SVG document.
    static func render(_ source: String) -> String? {
        do {
            return try Graphviz.svg(source).contains("<svg") ? nil : "no <svg> in dot's output"
        } catch {
            return "\(error)"
        }
    }

    @Test func everyScenarioGraphAndDiffRenders() throws {
        // The repository's own library (the shared recipes are for the conformance suites).
        let files = RepositoryFiles.scenarios.filter { $0.hasPrefix("scenarios/") }
        var graphs = 0
        var diffs = 0
        for file in files {
            let path = RepositoryFiles.absolute(file)
            let timeline = try ScenarioLoader.timeline(path, cellLimit: .warn)
            let graph = GraphDotRenderer.render(ConnectivityGraph(timeline), title: GraphCommand.title(timeline, step: nil))
            let graphProblem = Self.render(graph)
            #expect(graphProblem == nil, "graph \(file): \(graphProblem ?? "")")
            graphs += 1
            let diff = DiffDotRenderer.render(
                ConnectivityDiff.result(old: timeline, afterStep: 0, new: timeline, afterStep: timeline.scenario.steps.count))
            guard !diff.isEmpty else { continue }
            let diffProblem = Self.render(diff)
            #expect(diffProblem == nil, "diff \(file)@0 \(file): \(diffProblem ?? "")")
            diffs += 1
        }
        #expect(graphs > 100 && diffs > 50, "\(graphs) graphs, \(diffs) diffs")
    }
}
