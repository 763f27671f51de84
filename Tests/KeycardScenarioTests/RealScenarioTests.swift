import Foundation
import KeycardModel
import KeycardScenario
import KeycardTestSupport
import Testing

/// The repository's scenarios and the shared conformance recipes (when `../shared` is there):
/// their tables were written from the NetworkPolicy documentation, so the model must agree with
/// every explicit cell.
enum RealScenarios {
    static var files: [String] { RepositoryFiles.scenarios.map(RepositoryFiles.absolute) }
}

@Suite("Real scenarios")
struct RealScenarioTests {
    @Test("the model agrees with the documented tables", arguments: RealScenarios.files)
    func modelAgrees(_ path: String) throws {
        let scenario = try ScenarioLoader.load(path)
        let report = ModelReport.build(try Timeline(scenario))
        for step in report.steps where !step.passed {
            for case .probe(let result) in step.results ?? [] where !result.passed {
                Issue.record(
                    "\((path as NSString).lastPathComponent) step \(step.index): \(result.from) -> \(result.to) \(result.port) expected \(result.expected), model \(result.model)"
                )
            }
        }
        #expect(report.passed)
    }
}
