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

    /// Istio's Bookinfo as published with the authorization policies of Istio's HTTP-authorization
    /// task (AUTHZ-HTTP), the namespace labelled for the mesh as the task's set-up does (`--mesh`).
    /// With sidecars, the task's end state (every file applied): anyone may GET productpage, only
    /// productpage's identity may GET details and reviews, only reviews' identity may GET ratings;
    /// every other call gets HTTP 403 (R25, R26, R29, R41). With ambient and no waypoint, ztunnel
    /// drops the ALLOW rules that name methods (R49): the policies still make every workload
    /// default-deny, so nothing gets in, refused by a reset (R54). Judged from the task, and every
    /// cell agrees with the model.
    @Test(.serialized, arguments: [DataPlane.sidecar, .ambient], Enforcement.allCases)
    func bookinfoWithTheMesh(_ plane: DataPlane, _ enforcement: Enforcement) throws {
        let name = ScenarioLibrary.uniqueLabName()
        let paths = ["bookinfo-mesh/upstream/samples/bookinfo/platform/kube", "bookinfo-mesh/extracted/authz-http"]
        let timeline = try ManifestLoader.timeline(paths.map { RepositoryFiles.absolute(Self.apps + $0) }, name: name, mesh: plane)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: name))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        let cells = (report.steps.first?.results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record, result.port.port == 9080, case .pod(let to) = result.to, to != result.from {
                return result
            }
            return nil
        }
        #expect(cells.count == 30)
        func observed(_ from: String, _ to: String) -> Set<Observation?> {
            Set(
                cells.filter { cell in
                    guard case .pod(let key) = cell.to else { return false }
                    return cell.from.name.hasPrefix(from) && key.name.hasPrefix(to)
                }.map(\.observed))
        }
        if plane == .sidecar {
            #expect(observed("details", "productpage") == [.allow])
            #expect(observed("ratings", "productpage") == [.allow])
            #expect(observed("productpage", "details") == [.allow])
            #expect(observed("productpage", "reviews") == [.allow])
            #expect(observed("reviews", "ratings") == [.allow])
            #expect(observed("reviews", "details") == [.denyRBAC])
            #expect(observed("productpage", "ratings") == [.denyRBAC])
            #expect(observed("details", "reviews") == [.denyRBAC])
            #expect(observed("ratings", "details") == [.denyRBAC])
            #expect(cells.filter { $0.observed == .denyRBAC }.allSatisfy { $0.detail == "http-403" })
        } else {
            #expect(Set(cells.map(\.observed)) == [.denyRBAC])
            #expect(cells.allSatisfy { $0.detail == "reset" })
        }
        run.tearDown()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabMesh.folder(lab: name)), "the lab CA's folder is left behind")
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
