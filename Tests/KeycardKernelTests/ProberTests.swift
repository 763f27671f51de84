import Foundation
import Glibc
import Testing

@testable import KeycardKernel
@testable import KeycardTestSupport
@testable import KeycardValues

/// Root tests of the prober against nftables rules loaded with `nft` in the server namespace.
/// Serialized: the timing printed (and the one-timeout-per-wave claim) should not share 2 cores.
@Suite("Sockets: prober against drop and reject rules", .serialized, .enabled(if: getuid() == 0))
struct ProberTests {
    @Test func dropIsDeniedWithinOneTimeoutAndRetriedOnce() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080), pair.endpoint(.udp, 5353), pair.endpoint(.tcp, 8081)])
        defer { server.stop() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                tcp dport 8080 drop
                udp dport 5353 drop
              }
            }
            """)

        let requests = [pair.request(.tcp, 8080), pair.request(.udp, 5353), pair.request(.tcp, 8081)]
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .milliseconds(400), retries: 1) }
        print("drop: 2 denied + 1 allowed, timeout 400 ms, 1 retry: \(Int(ms)) ms")

        #expect(
            outcomes == [
                ProbeOutcome(verdict: .deny(.timeout), attempts: 2),
                ProbeOutcome(verdict: .deny(.timeout), attempts: 2),
                ProbeOutcome(verdict: .allow(line: "default/server"), attempts: 1),
            ])
        // Two waves of one timeout each (the upper bound leaves room for a loaded machine).
        #expect(ms >= 800 && ms < 3000)
    }

    /// Documented behaviour: a reject with TCP reset or ICMP port-unreachable (nft's default `reject`
    /// for IPv4) reads as `.closed`; ICMP admin-prohibited reads as `.deny` with EHOSTUNREACH kept.
    @Test func rejectIsClosedOrDeniedWithItsReason() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let ports: [UInt16] = [8081, 8082, 8083]
        let server = try PortServer(endpoints: ports.map { pair.endpoint(.tcp, $0) } + [5355, 5356].map { pair.endpoint(.udp, $0) })
        defer { server.stop() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                tcp dport 8081 reject with tcp reset
                tcp dport 8082 reject
                tcp dport 8083 reject with icmp type admin-prohibited
                udp dport 5355 reject
                udp dport 5356 reject with icmp type admin-prohibited
              }
            }
            """)
        // ICMP errors are rate limited per peer (burst 6, then 1/s): lift it so every reject answers.
        try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", pair.server, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])

        let requests = ports.map { pair.request(.tcp, $0) } + [5355, 5356].map { pair.request(.udp, $0) }
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(2), retries: 2) }
        print("reject: 5 probes: \(Int(ms)) ms")

        #expect(
            outcomes.map(\.verdict) == [
                .closed, .closed, .deny(.socketError(errno: EHOSTUNREACH)), .closed, .deny(.socketError(errno: EHOSTUNREACH)),
            ])
        #expect(outcomes.map(\.attempts) == [1, 1, 1, 1, 1])  // an ICMP answer is final: no retry
        #expect(ms < 1900)  // ICMP errors come back at once: no 2 s timeout spent
    }

    @Test func localOutputDropIsDeniedWithEPERMWithoutWaiting() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.udp, 5353)])
        defer { server.stop() }
        try pair.world.nft(
            in: pair.client,
            """
            table inet kc-test {
              chain output { type filter hook output priority 0; policy accept; udp dport 5353 drop; }
            }
            """)

        let outcomes = try Prober().probe([pair.request(.udp, 5353)], timeout: .seconds(1))
        #expect(outcomes.map(\.verdict) == [.deny(.socketError(errno: EPERM))])
    }

    @Test func scanTellsOpenClosedFiltered() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 22), pair.endpoint(.tcp, 443)])
        defer { server.stop() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test { chain input { type filter hook input priority 0; tcp dport 443 drop; }; }
            """)

        let targets = [22, 23, 443].map { ScanTarget(address: PairWorld.serverAddress, port: $0) }
        let results = try Prober().scan(from: pair.client, targets: targets, timeout: .seconds(1))
        #expect(results == [.open, .closed, .filtered])
    }

    @Test func concurrencyLimitRunsSuccessiveWaves() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let ports = (0..<300).map { UInt16(30000 + $0) }
        let server = try PortServer(endpoints: ports.map { pair.endpoint(.tcp, $0, line: "default/p\($0)") })
        defer { server.stop() }

        let outcomes = try Prober(maxInFlight: 64).probe(ports.map { pair.request(.tcp, $0) }, timeout: .seconds(2))
        #expect(outcomes.map(\.verdict) == ports.map { .allow(line: "default/p\($0)") })  // request order kept
    }

    /// 4 client namespaces x 2 server namespaces x 76 ports x (tcp, udp) = 1,216 probes in one call, half
    /// of them dropped: one wave, so about one timeout.
    @Test func overAThousandProbesHalfDroppedTakeAboutOneTimeout() throws {
        let world = SocketsTestWorld()
        defer { world.tearDown() }
        let clients = try (0..<4).map { try world.namespace("pod.default.c\($0)") }
        let servers = try (0..<2).map { try world.namespace("pod.default.s\($0)") }
        var endpoints: [ServedEndpoint] = []
        var requests: [ProbeRequest] = []
        let ports = (0..<76).map { UInt16(20000 + $0) }
        for (s, server) in servers.enumerated() {
            for (c, client) in clients.enumerated() {
                let clientAddress = "10.21\(s).\(c).1", serverAddress = IPv4("10.21\(s).\(c).2")!
                try world.link(client, "s\(s)", clientAddress, server, "c\(c)", serverAddress.description)
                for port in ports {
                    for proto in [TransportProtocol.tcp, .udp] {
                        requests.append(ProbeRequest(sourceNamespace: client, destination: serverAddress, proto: proto, port: port))
                    }
                }
            }
            for port in ports {
                for proto in [TransportProtocol.tcp, .udp] {
                    endpoints.append(ServedEndpoint(namespace: server, address: "0.0.0.0", proto: proto, port: port, line: "default/s\(s)"))
                }
            }
            // Odd ports dropped: half of every client's probes.
            try world.nft(
                in: server,
                """
                table inet kc-test { chain input { type filter hook input priority 0;
                  meta l4proto { tcp, udp } th dport & 1 == 1 drop; }; }
                """)
        }
        let server = try PortServer(endpoints: endpoints)
        defer { server.stop() }

        // A deadline of 3 s: 608 answers must all come within it, on a loaded machine too.
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(3)) }
        print("1,216 probes (608 dropped) across 4+2 namespaces, timeout 3 s: \(Int(ms)) ms")

        let allowed = outcomes.filter { if case .allow = $0.verdict { true } else { false } }.count
        let denied = outcomes.filter { $0.verdict == .deny(.timeout) }.count
        #expect(requests.count == 1216)
        #expect(allowed == 608)
        #expect(denied == 608)
        for (request, outcome) in zip(requests, outcomes) where request.port % 2 == 0 {
            let s = request.destination.description.hasPrefix("10.210.") ? 0 : 1
            #expect(outcome.verdict == .allow(line: "default/s\(s)"), "\(request)")
        }
    }
}
