import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A probe the model allows that the kernel dropped (review of the docs as a newcomer, finding 1):
/// the flow log writes the drop on the side the kernel's record names, and nothing for a timeout,
/// which is no kernel record; it wrote a POLICY_DENIED egress drop where no policy isolates a side.
@Suite("Flow log: drops the model allows")
struct FlowDropSideTests {
    static func lines(reason: String, evidence: String = "model") throws -> [HubbleFlowLine] {
        let timeline = try ScenarioLoader.parseTimeline(ScenarioText.scenario(), file: "flat.yaml")
        let cluster = timeline.cluster(afterStep: 0)
        let api = ObjectKey("prod", "api")
        let web = ObjectKey("prod", "web")
        let port = ProtocolPort(.tcp, 80)
        let verdict = PolicyEngine(cluster).evaluate(fromSource: api, to: .pod(web), port: port)
        #expect(verdict.decision == .allow)
        let facts = KeycardFlowFacts(
            scenario: "flat", step: 1, kind: "probe", cell: "prod/api -> prod/web TCP/80", attempt: 1, attempts: 1, model: "allow",
            observed: "deny", reason: reason, confirmed: false, evidence: evidence)
        return FlowLog(scenario: "flat", labName: "flat", nodes: [:]).events(
            from: api, to: .pod(web), port: port, dropped: true, verdict: verdict, cluster: cluster, time: "t", sourcePort: nil,
            facts: facts)
    }

    @Test func aTimeoutIsNoDropEvent() throws {
        #expect(try Self.lines(reason: "timeout").isEmpty)
    }

    @Test func theLoggedSideCarriesTheDrop() throws {
        let ingress = try Self.lines(reason: "dropped: kc deny ingress prod/web")
        #expect(ingress.map(\.flow.traffic_direction) == ["INGRESS"])
        #expect(ingress.map(\.flow.verdict) == ["DROPPED"])
        let egress = try Self.lines(reason: "connect: Operation not permitted (errno 1)")
        #expect(egress.map(\.flow.traffic_direction) == ["EGRESS"])
        #expect(try Self.lines(reason: "No route to host (errno 113)").map(\.flow.traffic_direction) == ["EGRESS"])
    }
}
