import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Online Boutique as published (`../shared/conformance/apps/online-boutique/`, read in place),
/// in manifests mode, for real: its 12 Deployments come up as pods and every workload's probe to
/// every pod agrees with the model in both placements, its call graph goes through the Services'
/// ClusterIPs and nothing else does, and the real cluster DNS answers every Service name. As root.
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
        try Self.checkServicesAndDNS(report, timeline)
        run.tearDown()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
    }

    /// Concrete cells of the call graph through the ClusterIPs, and names answered by the real DNS.
    static func checkServicesAndDNS(_ report: Report, _ timeline: Timeline) throws {
        let services = (report.steps.dropFirst().first?.results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        func cells(_ from: String, _ service: String) -> [ProbeResult] {
            services.filter { $0.fromWorkload?.name == from && $0.to.serviceKey?.name == service }
        }
        func observed(_ from: String, _ service: String) -> [Observation?] { cells(from, service).map(\.observed) }
        #expect(observed("frontend", "cartservice") == [.allow])
        #expect(cells("frontend", "cartservice").first?.port == ProtocolPort(.tcp, 7070))
        #expect(cells("frontend", "cartservice").first?.targetPort == 7070)
        #expect(observed("loadgenerator", "cartservice") == [.deny])
        #expect(observed("checkoutservice", "paymentservice") == [.allow])
        #expect(observed("loadgenerator", "frontend") == [.allow])
        #expect(cells("frontend", "frontend").first?.targetPort == 8080)
        // redis-cart is reached through its Service by cartservice alone.
        let toRedis = services.filter { $0.to.serviceKey?.name == "redis-cart" }
        #expect(toRedis.count == 12)
        for cell in toRedis where cell.expected != .ignored {
            #expect(cell.observed == (cell.fromWorkload?.name == "cartservice" ? .allow : .deny), "\(cell.cellDescription)")
        }
        // Every workload's pod resolves every Service name to its ClusterIP.
        let answers = report.steps.compactMap { step -> DNSResult? in
            if case .dns(let result)? = step.results?.first { return result }
            return nil
        }
        #expect(answers.count == 12 * 12)
        let cart = try #require(timeline.initial.services[ObjectKey("default", "cartservice")]?.clusterIP)
        let frontendAsksCart = answers.first { $0.from.name.hasPrefix("frontend-") && $0.name == "cartservice.default.svc.cluster.local" }
        #expect(frontendAsksCart?.observed == .addresses([cart]))
        #expect(answers.allSatisfy { if case .addresses(let list) = $0.observed { list.count == 1 } else { false } })
    }
}
