import Foundation
import Glibc
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardKernel

/// The echo request keycard writes, checked without root.
@Suite("ICMP echo packets")
struct ICMPEchoTests {
    /// RFC 1071's example words (0x0001 0xf203 0xf4f5 0xf6f7) sum to 0xddf2; the checksum is its complement.
    @Test func checksumOfTheRFCExample() {
        #expect(ICMPEcho.checksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == ~UInt16(0xDDF2))
        // A packet carrying its own checksum sums to zero.
        let packet = ICMPEcho.request(identifier: 0x1234, payload: Array("abc".utf8))
        #expect(ICMPEcho.checksum(packet) == 0)
        #expect(Array(packet.prefix(8)) == [8, 0, packet[2], packet[3], 0x12, 0x34, 0, 1])
    }

    @Test func repliesAreMatchedByTypeAndIdentifier() {
        let header: [UInt8] = [0x45] + Array(repeating: 0, count: 19)
        let reply = header + [0, 0, 0, 0, 0x12, 0x34, 0, 1]
        #expect(ICMPEcho.isReply(reply[...], identifier: 0x1234))
        #expect(!ICMPEcho.isReply(reply[...], identifier: 0x1235))
        let request = header + [8, 0, 0, 0, 0x12, 0x34, 0, 1]
        #expect(!ICMPEcho.isReply(request[...], identifier: 0x1234))
        #expect(!ICMPEcho.isReply(header[...], identifier: 0x1234), "too short")
    }
}

/// Root: an echo request from inside one namespace, against `nft` rules in the other (a witness
/// independent of keycard's compiler).
@Suite("Sockets: ICMP echo probes", .serialized, .enabled(if: getuid() == 0))
struct ICMPProberTests {
    @Test func echoIsAllowedThenDroppedThenRefusedLocally() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let ping = pair.request(.icmp, 0)
        #expect(try Prober().probe([ping], timeout: .seconds(3)) == [ProbeOutcome(verdict: .allow(line: ""), attempts: 1)])

        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                icmp type echo-request drop
              }
            }
            """)
        let dropped = try Prober().probe([ping, pair.request(.tcp, 9)], timeout: .milliseconds(300))
        #expect(dropped[0] == ProbeOutcome(verdict: .deny(.timeout), attempts: 1))
        // TCP still gets through the same rules (to a closed port): the drop was ICMP's alone.
        #expect(dropped[1].verdict == .closed)

        try pair.world.nft(
            in: pair.client,
            """
            table inet kc-test {
              chain output { type filter hook output priority 0; policy accept;
                meta l4proto icmp drop
              }
            }
            """)
        let local = try Prober().probe([ping], timeout: .milliseconds(300))
        #expect(local[0].verdict == .deny(.socketError(errno: EPERM)))
    }

    /// An echo request an ingress rule drops and logs settles at the first attempt on the kernel's
    /// word (the logged packet's source, destination and echo identifier name the probe), as a TCP
    /// or UDP drop does; one dropped without a log still times out and is retried.
    @Test func loggedEchoDropIsConfirmedByTheDropLog() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                icmp type echo-request log prefix "kc deny ingress t/server" group 7 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.client, pair.server], group: 7)
        let ping = pair.request(.icmp, 0)
        let logged = try Prober().probe([ping], timeout: .seconds(2), retries: 1, evidence: evidence)
        #expect(logged == [ProbeOutcome(verdict: .deny(.dropLogged("kc deny ingress t/server")), attempts: 1)])

        try pair.world.nft(
            in: pair.server,
            """
            delete table inet kc-test
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                icmp type echo-request drop
              }
            }
            """)
        let silent = try Prober().probe([ping], timeout: .milliseconds(300), retries: 1, evidence: evidence)
        #expect(silent == [ProbeOutcome(verdict: .deny(.timeout), attempts: 2)])
        #expect(evidence.lost == 0)
    }

    /// A local output drop still answers with send()'s EPERM, even when the egress rule logs the
    /// packet to a listener the wave reads.
    @Test func loggedEgressDropStaysALocalRefusal() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        try pair.world.nft(
            in: pair.client,
            """
            table inet kc-test {
              chain output { type filter hook output priority 0; policy accept;
                meta l4proto icmp log prefix "kc deny egress t/client" group 7 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.client, pair.server], group: 7)
        let outcomes = try Prober().probe([pair.request(.icmp, 0)], timeout: .seconds(2), retries: 1, evidence: evidence)
        #expect(outcomes == [ProbeOutcome(verdict: .deny(.socketError(errno: EPERM)), attempts: 1)])
    }

    /// Waves at once share the listeners; every pod pings every pod, all ingress dropped and logged:
    /// each drop settles its own probe (the target's prefix) at the first attempt.
    @Test(arguments: [1, 3]) func concurrentWavesConfirmEchoDrops(_ parallelism: Int) throws {
        let lab = try NflogPods(count: 9)
        defer { lab.world.tearDown() }
        let mesh = lab.meshRequests([(.icmp, 0)])
        let evidence = try DropEvidence(namespaces: lab.pods, group: 7)
        try lab.dropAllIngress(logging: true)
        let outcomes = try Prober(maxInFlight: 20, parallelism: parallelism).probe(
            mesh.map(\.request), timeout: .seconds(2), retries: 1, evidence: evidence)
        for (probe, outcome) in zip(mesh, outcomes) {
            let expected =
                probe.source == probe.target
                ? ProbeOutcome(verdict: .allow(line: ""), attempts: 1)
                : ProbeOutcome(verdict: .deny(.dropLogged(NflogPods.prefix(probe.target))), attempts: 1)
            #expect(outcome == expected, "\(probe.request)")
        }
        #expect(evidence.lost == 0)
    }
}
