import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// A short name whose answer is too large for UDP, from a pod allowed UDP/53 only: glibc's TCP
/// retry is denied and its search ends NXDOMAIN (not `blocked`). The flow log drops that TCP flow
/// (it wrote `AUDIT` in an enforcing run), and audit mode reports the lookup enforcement would
/// break (it reported nothing). Final diff review, findings 1 and 2.
@Suite("Truncated DNS answers: the denied TCP retry")
struct TruncatedDNSRetryTests {
    static func step() throws -> (Timeline, Step, DNSResult) {
        let timeline = try ScenarioLoader.parseTimeline(
            DNSTruncationScenario.text(lab: "truncated-retry", ports: "{protocol: UDP, port: 53}"), file: "truncated-retry.yaml")
        let step = try #require(timeline.scenario.steps.first)
        guard case .dns(let dns) = step.action else { throw TruncatedDNSRetryError() }
        let result = ModelReport.dnsResult(dns, step: step, timeline: timeline)
        #expect(result.model == .notFound && result.truncated == true)
        return (timeline, step, result)
    }

    @Test func theDeniedTCPRetryIsADrop() throws {
        var (timeline, step, result) = try Self.step()
        result.observed = result.model
        let lines = FlowLog(scenario: "truncated-retry", labName: "truncated-retry", nodes: timeline.plan.nodes).flows(
            of: StepReport(step, passed: true, results: [.dns(result)]), cluster: timeline.cluster(afterStep: 1),
            time: Date(timeIntervalSince1970: 1_800_000_000))
        let tcp = lines.filter { $0.flow.l4.TCP != nil }
        #expect(!tcp.isEmpty && tcp.allSatisfy { $0.flow.verdict == "DROPPED" }, "\(lines.map(\.flow.verdict))")
        #expect(!lines.contains { $0.flow.verdict == "AUDIT" })
    }

    @Test func auditModeSaysEnforcementWouldBreakTheLookup() throws {
        var (timeline, step, result) = try Self.step()
        // Audit mode enforces nothing: the lookup is answered over TCP.
        result.observed = .addresses((1...30).map { IPv4(0x0AF4_0000 + UInt32($0)) })
        let judged = AuditEvaluation.judge(StepReport(step, passed: true, results: [.dns(result)]), cluster: timeline.cluster(afterStep: 1))
        guard case .dns(let audited) = judged.results?.first else {
            Issue.record("no dns result")
            return
        }
        #expect(audited.audit == "would-deny", "\(audited)")
        #expect(judged.audit?.contains { $0.policy.hasPrefix("a/dns-only") } == true, "\(String(describing: judged.audit))")
    }
}

struct TruncatedDNSRetryError: Error {}
