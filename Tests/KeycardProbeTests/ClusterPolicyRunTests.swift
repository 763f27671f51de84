import KeycardLab
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import Testing

/// The lab does not enforce ClusterNetworkPolicy yet: a run of such a scenario is refused before
/// any lab is built, rather than reporting packets that never met the tiers as mismatches.
@Suite("ClusterNetworkPolicy runs")
struct ClusterPolicyRunTests {
    @Test func runIsRefusedBeforeAnyLabIsBuilt() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/conformance/cnp/01-admin-deny-ingress.yaml"))
        #expect(timeline.usesClusterPolicies)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: .pod))
        #expect(throws: ClusterPoliciesNotEnforced.self) { try run.execute() }
        #expect(Lab.status(run.labName).state == nil && Lab.status(run.labName).namespaces.isEmpty)
    }
}
