import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Audit mode, staged policies and flows judge a scan through a Service by the backend it
/// reached (`ScanResult.reached`), and leave what the model does not judge out of pass/fail.
struct ServiceScanAuditTests {
    static let file = RepositoryFiles.absolute("scenarios/service-scan.yaml")

    /// Step 6 of service-scan (both web pods locked): what an unenforcing lab observes.
    static func auditedStep() throws -> (StepReport, Cluster, IPv4) {
        let timeline = try ScenarioLoader.timeline(file)
        let cluster = timeline.cluster(afterStep: 6)
        let web = try #require(cluster.services[ObjectKey("shop", "web")]?.clusterIP)
        let step = try #require(timeline.scenario.steps.first { $0.index == 6 })
        let locked = ScanResult(
            from: ObjectKey("shop", "client"), to: "svc/shop/web>shop/web-a", ip: web, port: 80, model: .filtered, observed: .open)
        let unjudged = ScanResult(
            from: ObjectKey("shop", "client"), to: "svc/shop/web@node-0", ip: LabNetwork.nodeAddress(0), port: 30080, model: nil,
            observed: .open)
        return (StepReport(step, passed: false, results: [.scan(locked), .scan(unjudged)]), cluster, web)
    }

    @Test func auditJudgesTheBackendAndSkipsTheUnjudged() throws {
        let (report, cluster, _) = try Self.auditedStep()
        let judged = AuditEvaluation.judge(report, cluster: cluster)
        #expect(judged.passed, "\(judged.summary ?? "")")
        guard case .scan(let locked) = judged.results?.first else {
            Issue.record("no scan result")
            return
        }
        #expect(locked.audit == "would-deny")
        #expect(locked.rule?.contains("lock-web") == true, "\(locked.rule ?? "")")
        #expect(judged.summary?.contains("0 not as without enforcement") == true, "\(judged.summary ?? "")")
    }

    @Test func stagedPoliciesSeeTheBackend() throws {
        let (report, cluster, _) = try Self.auditedStep()
        let endpoint = try #require(
            report.results?.first.flatMap { record -> Endpoint? in
                if case .scan(let scan) = record { return scan.reached(in: cluster) }
                return nil
            })
        #expect(endpoint == .service(ObjectKey("shop", "web"), backend: ObjectKey("shop", "web-a")))
        #expect(cluster.judgedPort(endpoint, ProtocolPort(.tcp, 80)) == ProtocolPort(.tcp, 8080))
    }
}
