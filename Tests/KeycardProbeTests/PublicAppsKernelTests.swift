import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import Testing

/// The other public applications of `../shared/conformance/apps` (see its README), read in place
/// and unchanged, in manifests mode: each loads, and runs for real in both placements with every
/// cell, Service cell and DNS answer agreeing with the model. Sock Shop's cells are also judged
/// from its policy text. As root.
@Suite("Public applications in a real lab", .enabled(if: RepositoryFiles.hasSharedRecipes, "no ../shared beside this checkout"))
struct PublicAppsKernelTests {
    static let apps = "../shared/conformance/apps/"

    /// Each application as the folders or files its README names, relative to `apps`.
    static let sets: [[String]] = [
        ["calico-stars/upstream/static/files"],
        ["calico-stars/upstream-aws/stars/manifests", "calico-stars/upstream-aws/stars/policies"],
        ["sock-shop/upstream/deploy/kubernetes/manifests", "sock-shop/upstream/deploy/kubernetes/manifests-policy"],
        ["argo-cd/upstream/manifests/install.yaml"],
        ["argo-cd/upstream/manifests/ha"],
        ["eks-netpol-walkthrough/upstream/advanced/manifests", "eks-netpol-walkthrough/upstream/advanced/policies"],
        ["bookinfo-mesh/upstream/samples/bookinfo/platform/kube", "bookinfo-mesh/extracted/authz-http"],
    ]

    static var cases: [([String], Enforcement)] { sets.flatMap { set in Enforcement.allCases.map { (set, $0) } } }

    @Test(arguments: cases)
    func runsAsPublished(_ set: [String], _ enforcement: Enforcement) throws {
        let name = ScenarioLibrary.uniqueLabName()
        let timeline = try ManifestLoader.timeline(set.map { RepositoryFiles.absolute(Self.apps + $0) }, name: name)
        #expect(!timeline.initial.pods.isEmpty && timeline.scenario.lab.dns)
        #expect(timeline.scenario.steps.contains { $0.kind == .dns })
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: name))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        if set[0].hasPrefix("sock-shop") { Self.checkSockShop(report) }
        run.tearDown()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
    }

    /// Judged from the policy text: `cortex-access` (an empty podSelector) isolates every pod for
    /// ingress; `catalogue-access` then lets front-end reach catalogue on 80, but `cart-access`
    /// selects `name: cart` while the carts pods are `name: carts`: nobody reaches carts, not even
    /// front-end. (The namespace's DefaultDeny annotation is the long-gone beta API: no effect.)
    static func checkSockShop(_ report: Report) {
        let cells = (report.steps.dropFirst().first?.results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        func observed(_ from: String, _ service: String) -> [Observation?] {
            cells.filter { $0.fromWorkload?.name == from && $0.to.serviceKey?.name == service }.map(\.observed)
        }
        #expect(observed("front-end", "catalogue") == [.allow])
        #expect(observed("user", "catalogue") == [.deny])
        #expect(observed("front-end", "carts") == [.deny])
        #expect(observed("orders", "carts") == [.deny])
    }
}
