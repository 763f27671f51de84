import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// `keycard observe -o compact`: one line of text a flow, with Hubble's words for a policy drop.
@Suite("observe -o compact")
struct ObserveCompactTests {
    static func flow(verdict: String, eventType: HubbleFlow.EventType, deniedBy: [HubbleFlow.Policy]?) -> HubbleFlow {
        var flow = HubbleFlow(
            time: "2026-12-02T00:00:00Z", verdict: verdict, drop_reason_desc: "POLICY_DENIED",
            IP: .init(source: "10.244.0.2", destination: "10.244.0.3"),
            l4: .init(TCP: .init(source_port: nil, destination_port: 80, flags: ["SYN": true])),
            source: .init(identity: 300, namespace: "x", labels: [], pod_name: "b"),
            destination: .init(identity: 301, namespace: "x", labels: [], pod_name: "a"), node_name: "l-node-0",
            event_type: eventType, traffic_direction: "INGRESS")
        flow.ingress_denied_by = deniedBy
        return flow
    }

    @Test("a dropped packet's policy verdict says DENIED with its policy, its drop event DROPPED")
    func policyVerdictAndDrop() {
        let policy = HubbleFlow.Policy(name: "deny-in", namespace: "x")
        let verdict = Self.flow(verdict: "DROPPED", eventType: .init(type: 5), deniedBy: [policy])
        let drop = Self.flow(verdict: "DROPPED", eventType: .init(type: 1, sub_type: 133), deniedBy: nil)
        #expect(ObserveCommand.compact(verdict) == "2026-12-02T00:00:00Z x/b -> x/a:80/TCP DENIED INGRESS by x/deny-in")
        #expect(ObserveCommand.compact(drop) == "2026-12-02T00:00:00Z x/b -> x/a:80/TCP DROPPED INGRESS")
    }

    /// An echo request has no port: it was written as SCTP to port 0.
    @Test("an echo request is ICMP, without a port")
    func echoRequest() {
        var flow = Self.flow(verdict: "FORWARDED", eventType: .init(type: 5), deniedBy: nil)
        flow.l4 = .init(ICMPv4: .init(type: 8, code: 0))
        #expect(ObserveCommand.compact(flow) == "2026-12-02T00:00:00Z x/b -> x/a ICMP FORWARDED INGRESS")
    }
}
