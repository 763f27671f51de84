import KeycardModel
import KeycardValues
import Testing

@testable import KeycardMesh

/// The proxy's record under the prober's retries: a retry keeps its source port, so two
/// connections share one 4-tuple, and the one the prober gave up on may still be at work.
@Suite("Mesh flow log")
struct MeshFlowLogTests {
    private let client = MeshFlow(IPv4(0x0AF4_0005), 20_001, IPv4(0x0AF4_0106), 8080)
    private let firstUpstream = MeshFlow(IPv4(0x0AF4_0005), 40_001, IPv4(0x0AF4_0106), 8080)
    private let retryUpstream = MeshFlow(IPv4(0x0AF4_0005), 40_002, IPv4(0x0AF4_0106), 8080)

    @Test("the retry's claim holds: the attempt given up on cannot relink, re-record or forget the flow")
    func retryWinsOverLateWrites() {
        let log = MeshFlowLog()
        let first = log.ticket()
        let retry = log.ticket()
        // The retry got through its set-up first; the abandoned attempt's set-up runs late.
        let retryClaim = log.claim(client, with: retry)
        log.link(retryClaim, to: retryUpstream)
        log.record(MeshFlowRecord(outcome: .denyRBAC, detail: "reset"), for: log.claim(retryUpstream, with: log.ticket()))
        let lateClaim = log.claim(client, with: first)
        log.link(lateClaim, to: firstUpstream)
        log.record(MeshFlowRecord(outcome: .allow), for: lateClaim)

        let outcome = log.outcome(ofClientFlow: client)
        #expect(outcome?.outcome == .denyRBAC)
        #expect(outcome?.detail == "reset")
    }

    @Test("a new connection on a flow forgets the earlier one's record and link")
    func newConnectionForgets() {
        let log = MeshFlowLog()
        let first = log.claim(client, with: log.ticket())
        log.link(first, to: firstUpstream)
        log.record(MeshFlowRecord(outcome: .deny, detail: "connect-timeout"), for: first)
        #expect(log.outcome(ofClientFlow: client)?.outcome == .deny)

        let retry = log.claim(client, with: log.ticket())
        #expect(log.outcome(ofClientFlow: client) == nil)
        // The earlier connection's writes after the retry's claim change nothing.
        log.record(MeshFlowRecord(outcome: .closed), for: first)
        log.link(first, to: firstUpstream)
        #expect(log.outcome(ofClientFlow: client) == nil)
        log.record(MeshFlowRecord(outcome: .allow), for: retry)
        #expect(log.outcome(ofClientFlow: client)?.outcome == .allow)
    }

    @Test("clear forgets every claim, and tickets taken before it stay older than those after")
    func clearKeepsTicketOrder() {
        let log = MeshFlowLog()
        let before = log.ticket()
        log.clear()
        let after = log.claim(client, with: log.ticket())
        log.record(MeshFlowRecord(outcome: .allow), for: after)
        log.record(MeshFlowRecord(outcome: .closed), for: log.claim(client, with: before))
        #expect(log.outcome(ofClientFlow: client)?.outcome == .allow)
    }

    @Test("the source proxy's allow of a hop to a meshed destination is no verdict: the destination's record is awaited")
    func hopAllowIsNoVerdict() {
        let log = MeshFlowLog()
        let claim = log.claim(client, with: log.ticket())
        log.link(claim, to: firstUpstream)
        let hop = MeshFlowRecord(outcome: .allow, pod: ObjectKey("foo", "httpbin"), plane: .sidecar)
        log.record(hop, for: claim)
        #expect(log.clientOutcome(of: client) == .awaitingDestination(hop: hop))
        #expect(log.outcome(ofClientFlow: client) == nil)

        // The destination's inbound side decides, late.
        let refusal = MeshFlowRecord(outcome: .denyRBAC, detail: "reset", pod: ObjectKey("foo", "httpbin"), plane: .sidecar)
        log.record(refusal, for: log.claim(firstUpstream, with: log.ticket()))
        #expect(log.clientOutcome(of: client) == .decided(refusal))
        #expect(log.outcome(ofClientFlow: client)?.outcome == .denyRBAC)
    }

    @Test("the source proxy's own word decides when it ended the hop, or nothing behind the hop judges")
    func sourceRecordDecidesOtherwise() {
        let log = MeshFlowLog()
        let claim = log.claim(client, with: log.ticket())
        log.link(claim, to: firstUpstream)
        let dropped = MeshFlowRecord(outcome: .deny, detail: "connect-timeout", pod: ObjectKey("foo", "httpbin"), plane: .sidecar)
        log.record(dropped, for: claim)
        #expect(log.clientOutcome(of: client) == .decided(dropped))

        let outside = MeshFlowRecord(outcome: .allow, pod: ObjectKey("foo", "legacy"), plane: DataPlane.none)
        log.record(outside, for: claim)
        #expect(log.clientOutcome(of: client) == .decided(outside))
        #expect(log.clientOutcome(of: retryUpstream) == .unknown)
    }
}
