import KeycardModel
import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// `keycard run -o tap`: TAP version 14 as netassert's consumers read it.
@Suite struct TAPTests {
    static func step(_ index: Int, passed: Bool, name: String?, summary: String?, results: [ResultRecord]? = nil) -> StepReport {
        StepReport(index: index, name: name, kind: .probe, passed: passed, results: results, summary: summary)
    }

    @Test func versionPlanPointsAndDiagnostics() throws {
        let wrong = ProbeResult(
            from: ObjectKey("prod", "web"), to: .pod(ObjectKey("prod", "db")), port: .init(.tcp, 5432), expected: .deny, model: .deny,
            observed: .allow)
        let reports = [
            Report(
                scenario: "one", enforcement: .pod, passed: false,
                steps: [
                    Self.step(1, passed: true, name: "flat # network", summary: "2 probes"),
                    Self.step(2, passed: false, name: nil, summary: "1 of 2 \"wrong\"", results: [.probe(wrong)]),
                ]),
            Report(scenario: "two", enforcement: .node, passed: true, steps: [Self.step(1, passed: true, name: "only", summary: nil)]),
        ]
        let lines = TAPRenderer.render(reports).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines == [
                "TAP version 14",
                "1..3",
                "ok 1 - one: step 1 probe: flat \\# network",
                "not ok 2 - one: step 2 probe",
                "  ---",
                "  message: \"1 of 2 \\\"wrong\\\"\"",
                "  severity: fail",
                "  cells:",
                "    - \"prod/web -> prod/db TCP/5432: expected deny, observed allow, model deny\"",
                "  ...",
                "ok 3 - two: step 1 probe: only",
            ])
    }
}
