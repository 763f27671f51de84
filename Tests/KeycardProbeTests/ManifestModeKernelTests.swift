import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import Testing

/// Online Boutique as published (`../shared/conformance/apps/online-boutique/`, read in place),
/// in manifests mode, for real: its 12 Deployments come up as pods and every workload's probe to
/// every pod agrees with the model in both placements. As root.
@Suite("Manifests mode in a real lab")
struct ManifestModeKernelTests {
    static let boutique = RepositoryFiles.absolute("../shared/conformance/apps/online-boutique")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: boutique)), arguments: Enforcement.allCases)
    func onlineBoutique(_ enforcement: Enforcement) throws {
        let name = ScenarioLibrary.uniqueLabName()
        let timeline = try ManifestLoader.timeline([Self.boutique], name: name)
        let deployments = timeline.initial.workloads.keys.filter { $0.kind == .deployment }
        #expect(deployments.count == 12)
        #expect(deployments.allSatisfy { timeline.initial.pods(of: $0).count == 1 })
        #expect(timeline.initial.policies.count == 13)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: name))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        let results = (report.steps.first?.results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        // The call graph is allowed (frontend -> productcatalogservice on its gRPC port), the rest denied.
        #expect(
            results.contains {
                $0.fromWorkload?.name == "frontend" && $0.to.description.contains("productcatalogservice") && $0.port.port == 3550
                    && $0.observed == .allow
            })
        #expect(
            results.contains {
                $0.fromWorkload?.name == "loadgenerator" && $0.to.description.contains("redis-cart") && $0.observed == .deny
            })
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
    }
}
