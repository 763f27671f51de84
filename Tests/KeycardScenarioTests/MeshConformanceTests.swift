import Foundation
import KeycardModel
import KeycardTestSupport
import Testing

@testable import KeycardScenario

/// `scenarios/conformance/mesh/`: truth tables written by hand from spec mesh.md, checked through
/// the model (`keycard model`'s path) until the proxy exists. The folder is not picked up by the
/// `keycard run` library tests (they read `scenarios/conformance/*.yaml` only).
@Suite("Mesh conformance scenarios (model)")
struct MeshConformanceTests {
    static let files = RepositoryFiles.yamlFiles(in: "scenarios/conformance/mesh").filter {
        ($0.split(separator: "/").last?.first?.isNumber) ?? false
    }

    @Test("at least 25 scenarios") func count() { #expect(Self.files.count >= 25) }

    @Test(arguments: files)
    func agreesWithModel(_ file: String) throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute(file))
        #expect(timeline.usesMesh)
        let report = ModelReport.build(timeline)
        let wrong = report.steps.flatMap { $0.results ?? [] }.compactMap { record -> String? in
            guard case .probe(let result) = record, !result.passed else { return nil }
            return "\(result.from) -> \(result.to) \(result.port): expected \(result.expected.rawValue), model \(result.model.rawValue)"
        }
        #expect(wrong.isEmpty, "\(file):\n\(wrong.joined(separator: "\n"))")
        // Every explicit table cell is checked: no scenario passes by expecting nothing.
        let checked = report.steps.flatMap { $0.results ?? [] }.filter {
            if case .probe(let result) = $0 { return result.expected != .ignored }
            return false
        }
        #expect(!checked.isEmpty)
    }
}
