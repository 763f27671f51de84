import Foundation
import KeycardProbe
import KeycardScenario
import Testing

/// Runs every scenario of the library with real packets, in both placements: `scenarios/*.yaml`,
/// `scenarios/conformance/*.yaml` and the shared recipes. Their tables were written by hand from
/// the Kubernetes NetworkPolicy documentation, so a pass means the kernel behaved as Kubernetes says.
/// Serialized: probes decide "blocked" by a timeout, and labs competing for two cores would turn
/// slow answers into false denies.
@Suite("Scenario library", .serialized)
struct ScenarioLibraryTests {
    /// CI has ../shared beside the checkout; a plain clone does not, and then this is skipped.
    @Test(
        "the shared recipes are beside the checkout",
        .enabled(if: FileManager.default.fileExists(atPath: ScenarioLibrary.recipes.path), "no ../shared beside this checkout"))
    func sharedRecipesPresent() throws {
        let recipes = ScenarioLibrary.yamlFiles(in: "../shared/conformance/recipes")
        #expect(
            recipes.count >= 15,
            """
            expected the 15 shared conformance recipes in \(ScenarioLibrary.recipes.path) \
            (CI checks out ../shared beside the repository); found \(recipes.count)
            """)
    }

    @Test("the library is all there")
    func libraryPresent() {
        #expect(ScenarioLibrary.yamlFiles(in: "scenarios").count >= 5)
        #expect(ScenarioLibrary.yamlFiles(in: "scenarios/conformance").count >= 30)
    }

    @Test("runs and passes", arguments: ScenarioLibrary.files, Enforcement.allCases)
    func runs(_ file: String, _ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.timeline(ScenarioLibrary.absolute(file))
        let lab = ScenarioLibrary.uniqueLabName()
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, keep: false, labName: lab))
        defer { run.tearDown() }
        let started = ContinuousClock.now
        let report = try run.execute()
        print("\(file) (\(enforcement.rawValue)): \(report.steps.count) steps in \(ContinuousClock.now - started)")
        // A local Bool, so a failure prints the failing cells rather than the whole report.
        let passed = report.passed
        #expect(passed, "\(file) (\(enforcement.rawValue)) failed:\n\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty, "lab \(lab) left namespaces behind")
    }
}
